using System.CommandLine;
using Djag.Cli.Connection;
using Djag.Cli.Output;
using Djag.Persistence.Operations;

namespace Djag.Cli.Operate;

/// <summary><c>djag run-now</c>, <c>pause</c>, <c>resume</c> and <c>retry</c>: one operation, one line of answer.</summary>
internal static class OperateCommands
{
    public static IEnumerable<Command> Build(CliConsole console) =>
    [
        OnTask(console, "run-now", "Queue a manual run now, outside the cron events; the beat dispatches it within a second.",
            async (operations, name, ct) =>
            {
                var run = await operations.RunNowAsync(name, ct);
                return $"queued run {run.Id} of {run.Task} ({run.Origin}); the beat dispatches it within a second";
            }),
        OnTask(console, "pause", "Disable a task: the beat dispatches none of its events until it is resumed.",
            async (operations, name, ct) => Describe("paused", await operations.PauseAsync(name, ct))),
        OnTask(console, "resume", "Enable a task; events missed while paused follow its misfire policy, as after beat downtime.",
            async (operations, name, ct) => Describe("resumed", await operations.ResumeAsync(name, ct))),
        Retry(console),
    ];

    private static Command OnTask(CliConsole console, string verb, string description, Func<IDjagOperations, string, CancellationToken, Task<string>> operate)
    {
        var name = new Argument<string>("name") { Description = "The task's name." };
        var command = new Command(verb, description) { name };
        var connection = ConnectionOptions.AddTo(command);
        command.SetAction((parseResult, cancellationToken) => CommandRunner.RunAsync(console, parseResult, connection, async operations =>
        {
            await console.Out.WriteLineAsync(await operate(operations, parseResult.GetRequiredValue(name), cancellationToken));
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Retry(CliConsole console)
    {
        var id = new Argument<long>("run-id") { Description = "The failed or lost run (the ID column of runs list)." };
        var command = new Command("retry", "Queue the next attempt of a failed or lost run (anything else is refused: exit 1).") { id };
        var connection = ConnectionOptions.AddTo(command);
        command.SetAction((parseResult, cancellationToken) => CommandRunner.RunAsync(console, parseResult, connection, async operations =>
        {
            var runId = parseResult.GetValue(id);
            var run = await operations.RetryAsync(runId, cancellationToken);
            await console.Out.WriteLineAsync($"queued run {run.Id}: attempt {run.Attempt} of {run.Task}'s event {Text.Time(run.Cron)} (retry of run {runId})");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static string Describe(string verb, TaskSummary task) =>
        $"{verb} {task.Name}: state {task.State}, next fire {Text.Time(task.NextFire)}";
}
