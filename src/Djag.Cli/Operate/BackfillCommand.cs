using System.CommandLine;
using Djag.Cli.Connection;
using Djag.Cli.Output;
using Djag.Persistence.Operations;
using Djag.Persistence.Runs;
using Djag.Scheduling.ScheduleFiles;

namespace Djag.Cli.Operate;

/// <summary><c>djag backfill</c>: queues the events of a range that have no run, then follows those runs to the end.</summary>
internal static class BackfillCommand
{
    /// <summary>How often the runs are polled while waiting.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    public static Command Build(CliConsole console)
    {
        var name = new Argument<string>("name") { Description = "The task's name." };
        var from = new Option<string>("--from") { Description = "First instant of the range (inclusive), ISO-8601 with an offset.", Required = true };
        var to = new Option<string>("--to") { Description = "Last instant of the range (inclusive), ISO-8601 with an offset.", Required = true };
        var noWait = new Option<bool>("--no-wait") { Description = "Queue and return; do not follow the runs." };
        var timeout = new Option<int>("--timeout")
        {
            HelpName = "SECONDS",
            Description = "Stop waiting after this long (the runs stay queued); exit 1.",
            DefaultValueFactory = _ => 3600,
        };
        var command = new Command("backfill", """
            Queue one run for every cron event of the task in [from, to] that has none yet (an event recorded as
            skipped or coalesced gets its next attempt), print what was queued, what already ran and what is left to
            the schedule (events after the task's pointer), then wait for the queued runs with a progress bar on
            stderr. Exit 0 when every queued run succeeded or was skipped; 1 when one failed or the wait timed out.
            A failed run's automatic retries are not waited for.
            """)
        {
            name,
            from,
            to,
            noWait,
            timeout,
        };
        var connection = ConnectionOptions.AddTo(command);
        command.SetAction((parseResult, cancellationToken) => CommandRunner.RunAsync(console, parseResult, connection, async operations =>
        {
            var start = ParseInstant(parseResult.GetRequiredValue(from), "--from");
            var end = ParseInstant(parseResult.GetRequiredValue(to), "--to");
            var seconds = parseResult.GetValue(timeout);
            if (seconds < 1)
            {
                throw new CliInputException($"--timeout: must be at least 1 second, found {seconds}");
            }

            var result = await operations.BackfillAsync(parseResult.GetRequiredValue(name), start, end, cancellationToken);
            await console.Out.WriteLineAsync(
                $"backfill of {result.Task}: queued {result.RunIds.Count} run(s), {result.AlreadyRan} event(s) already ran, " +
                $"{result.LeftToSchedule} event(s) left to the schedule");
            if (result.RunIds.Count == 0)
            {
                return ExitCodes.Ok;
            }

            if (parseResult.GetValue(noWait))
            {
                await console.Out.WriteLineAsync($"follow them with: djag runs list --task {result.Task} --origin backfill");
                return ExitCodes.Ok;
            }

            return await WaitAsync(console, operations, result, TimeSpan.FromSeconds(seconds), cancellationToken);
        }));
        return command;
    }

    /// <summary>Polls the queued runs until each is finished or skipped, showing progress, or until <paramref name="timeout"/>.</summary>
    internal static async Task<int> WaitAsync(
        CliConsole console, IDjagOperations operations, BackfillResult result, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var progress = new BackfillProgress(console.Error, console.ErrorIsTerminal);
        var started = console.Time.GetUtcNow();
        while (true)
        {
            var counts = BackfillCounts.Of(result.RunIds.Count, await RunsAsync(operations, result, cancellationToken));
            progress.Show(counts);
            if (counts.Finished)
            {
                progress.End();
                await console.Out.WriteLineAsync($"backfill of {result.Task} done: {counts}");
                return counts.Failed == 0
                    ? ExitCodes.Ok
                    : console.Failed($"runs: {counts.Failed} of {counts.Total} backfilled run(s) did not succeed (djag runs list --task {result.Task} --origin backfill --outcome failure)");
            }

            if (console.Time.GetUtcNow() - started >= timeout)
            {
                progress.End();
                return console.Failed($"timeout: {counts.Total - counts.Done} of {counts.Total} run(s) unfinished after {Text.Duration(timeout)}; they stay queued");
            }

            await console.WaitAsync(PollInterval, cancellationToken);
        }
    }

    /// <summary>
    /// The views of the queued runs. Runs are listed newest first and a backfill's runs are the task's newest
    /// backfill runs, so the pages are read until every id was seen or the list is past the oldest one.
    /// </summary>
    private static async Task<List<RunView>> RunsAsync(IDjagOperations operations, BackfillResult result, CancellationToken cancellationToken)
    {
        var wanted = result.RunIds.ToHashSet();
        var oldest = result.RunIds.Min();
        var found = new List<RunView>();
        for (var offset = 0; found.Count < wanted.Count; offset += DatabaseOperations.MaxLimit)
        {
            var page = await operations.ListRunsAsync(
                new RunQuery(Task: result.Task, Origin: RunOrigins.Backfill, Offset: offset, Limit: DatabaseOperations.MaxLimit), cancellationToken);
            found.AddRange(page.Items.Where(r => wanted.Contains(r.Id)));
            if (page.Items.Count < DatabaseOperations.MaxLimit || page.Items[^1].Id <= oldest)
            {
                break;
            }
        }

        return found;
    }

    private static DateTimeOffset ParseInstant(string text, string flag) =>
        IsoInstant.TryParse(text, out var instant)
            ? instant.ToDateTimeOffset()
            : throw new CliInputException($"{flag}: '{text}' is not {IsoInstant.Expected}");
}
