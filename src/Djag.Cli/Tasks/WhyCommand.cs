using System.CommandLine;
using Djag.Cli.Connection;
using Djag.Cli.Output;
using Djag.Persistence.Operations;

namespace Djag.Cli.Tasks;

/// <summary><c>djag why NAME</c>: the beat's own answer to "why does this task not run", from the core.</summary>
internal static class WhyCommand
{
    public static Command Build(CliConsole console)
    {
        var name = new Argument<string>("name") { Description = "The task's name." };
        var command = new Command("why", """
            Explain what holds a task now: its verdict (due, waiting, not_due or disabled), the due event and
            since when it waits, each dependency resolved or not and why, and running against max_running.
            """)
        {
            name,
        };
        var connection = ConnectionOptions.AddTo(command);
        command.SetAction((parseResult, cancellationToken) => CommandRunner.RunAsync(console, parseResult, connection, async operations =>
        {
            Print(console.Out, await operations.WhyAsync(parseResult.GetRequiredValue(name), cancellationToken));
            return ExitCodes.Ok;
        }));
        return command;
    }

    internal static void Print(TextWriter output, WhyView why)
    {
        var fields = new Fields().Add("task", why.Task).Add("verdict", Verdict(why));
        if (why.Event is { } due)
        {
            fields.Add("event", $"{Text.Time(due)} (due since then: {Text.Duration(why.EvaluatedAt - due)})");
        }

        if (why.Verdict == WhyVerdicts.NotDue)
        {
            fields.Add("next event", why.NextEvent is { } next ? $"{Text.Time(next)} (in {Text.Duration(next - why.EvaluatedAt)})" : "none: the schedule has no further event");
        }

        fields
            .Add("reasons", string.Join("\n", why.Reasons))
            .Add("running", why.MaxRunning is { } max ? $"{why.Running} of max_running {max}" : $"{why.Running} (no max_running)")
            .Add("evaluated", Text.Time(why.EvaluatedAt))
            .Write(output);
        output.WriteLine("dependencies:");
        var table = new Table("DEPENDEE", "CONDITION", "FUTURE", "RESOLVED", "EXPLANATION");
        foreach (var edge in why.Edges)
        {
            table.Add(edge.Dependee, edge.Condition, Text.YesNo(edge.FutureDepends), Text.YesNo(edge.Resolved), edge.Explanation);
        }

        table.Write(output, "(none)", "  ");
    }

    private static string Verdict(WhyView why) => why.Verdict switch
    {
        WhyVerdicts.Due => "due: the beat dispatches the event now",
        WhyVerdicts.Waiting => "waiting: the event is due but held back",
        WhyVerdicts.NotDue => "not_due: no event is due yet",
        WhyVerdicts.Disabled => "disabled: paused, the beat dispatches none of its events",
        _ => why.Verdict,
    };
}
