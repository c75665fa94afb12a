using System.CommandLine;
using Djag.Cli.Connection;
using Djag.Cli.Output;
using Djag.Persistence.Operations;
using Djag.Persistence.Runs;

namespace Djag.Cli.Runs;

/// <summary><c>djag runs list</c> and <c>djag runs show ID</c>.</summary>
internal static class RunsCommand
{
    public static Command Build(CliConsole console) => new("runs", "List runs and show one.") { List(console), Show(console) };

    private static Command List(CliConsole console)
    {
        var task = new Option<string?>("--task") { HelpName = "NAME", Description = "Only runs of this task." };
        var state = new Option<string?>("--state") { Description = $"Only runs in this state: {string.Join(", ", RunStates.All)}." };
        var outcome = new Option<string?>("--outcome") { Description = $"Only runs with this outcome: {string.Join(", ", RunOutcomes.All)}." };
        var origin = new Option<string?>("--origin") { Description = $"Only runs of this origin: {string.Join(", ", RunOrigins.All)}." };
        var limit = new Option<int>("--limit") { Description = $"At most this many runs (1-{DatabaseOperations.MaxLimit}).", DefaultValueFactory = _ => 50 };
        var offset = new Option<int>("--offset") { Description = "Skip this many runs first." };
        var format = OutputFormatOption.Create();
        var command = new Command("list", "List runs, newest first. Times are UTC.") { task, state, outcome, origin, limit, offset, format };
        var connection = ConnectionOptions.AddTo(command);
        command.SetAction((parseResult, cancellationToken) => CommandRunner.RunAsync(console, parseResult, connection, async operations =>
        {
            var query = new RunQuery(
                parseResult.GetValue(task), parseResult.GetValue(state), parseResult.GetValue(outcome), parseResult.GetValue(origin),
                parseResult.GetValue(offset), parseResult.GetValue(limit));
            var page = await operations.ListRunsAsync(query, cancellationToken);
            if (OutputFormatOption.Get(parseResult, format) == OutputFormat.JsonLines)
            {
                JsonLines.Write(console.Out, page.Items);
                return ExitCodes.Ok;
            }

            var table = new Table("ID", "TASK", "CRON", "ATTEMPT", "ORIGIN", "STATE", "OUTCOME", "WORKER", "STARTED", "DURATION");
            foreach (var r in page.Items)
            {
                table.Add(Text.Number(r.Id), r.Task, Text.Time(r.Cron), Text.Number(r.Attempt), r.Origin, r.State, r.Outcome ?? Text.None,
                    r.Worker ?? Text.None, Text.Time(r.StartedAt), Text.Seconds(r.DurationSeconds));
            }

            table.Write(console.Out, "(no runs)");
            PageFooter.Write(console.Out, page, "runs");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Show(CliConsole console)
    {
        var id = new Argument<long>("id") { Description = "The run's id (the ID column of runs list)." };
        var command = new Command("show", "Show one run: its event, attempt, state, worker, times, error and output tail.") { id };
        var connection = ConnectionOptions.AddTo(command);
        command.SetAction((parseResult, cancellationToken) => CommandRunner.RunAsync(console, parseResult, connection, async operations =>
        {
            Print(console.Out, await operations.GetRunAsync(parseResult.GetValue(id), cancellationToken));
            return ExitCodes.Ok;
        }));
        return command;
    }

    internal static void Print(TextWriter output, RunView run) =>
        new Fields()
            .Add("id", Text.Number(run.Id))
            .Add("task", run.Task)
            .Add("cron", Text.Time(run.Cron))
            .Add("attempt", Text.Number(run.Attempt))
            .Add("origin", run.Origin)
            .Add("state", run.State)
            .Add("outcome", run.Outcome)
            .Add("worker", run.Worker)
            .Add("not before", Text.Time(run.NotBefore))
            .Add("dispatched", Text.Time(run.DispatchedAt))
            .Add("started", Text.Time(run.StartedAt))
            .Add("finished", Text.Time(run.FinishedAt))
            .Add("duration", Text.Seconds(run.DurationSeconds))
            .Add("reason", run.Reason)
            .Add("error", run.Error)
            .Add("output", run.OutputTail)
            .Write(output);
}
