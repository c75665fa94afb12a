using Djag.Cli;
using Djag.IntegrationTests.Infrastructure;
using Djag.IntegrationTests.Persistence;
using Djag.Persistence.Runs;
using NodaTime;

namespace Djag.IntegrationTests.Cli;

/// <summary>
/// <c>djag backfill</c>: what it queues, and the wait with its progress bar. No beat runs here: the injected
/// delay between two polls plays the beat and the workers by finishing a queued run, or advances the fake
/// clock by the poll interval so --timeout is counted in polls.
/// </summary>
public sealed class BackfillCommandTests(ServersFixture servers)
{
    // The hourly extract is created at 12:00: 08-12 are past events, 13 and 14 are the schedule's.
    private static readonly string[] Range = ["--from", "2026-03-01T08:00:00Z", "--to", "2026-03-01T14:00:00Z"];

    [Fact]
    public async Task Backfill_queues_the_missing_events_then_shows_one_progress_line_per_change_until_all_finished()
    {
        var db = await TestDatabase.CreateAsync(servers, "cli");
        await CliData.ChainAsync(db);
        await CliData.AddRunAsync(db, "extract", Instant.FromUtc(2026, 3, 1, 9, 0), RunOutcomes.Success);

        var run = await CliRunner.RunAsync(db.Clock, c => c with { Delay = (_, _) => FinishOneAsync(db, RunOutcomes.Success) },
            ["backfill", "extract", .. Range, "--db", db.ConnectionString]);

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal(
            """
            backfill of extract: queued 4 run(s), 1 event(s) already ran, 2 event(s) left to the schedule
            backfill of extract done: 4/4 runs done: 4 succeeded, 0 failed, 0 skipped

            """,
            run.Out);
        Assert.Equal(
            """
            backfill: 0/4 runs done: 0 succeeded, 0 failed, 0 skipped
            backfill: 1/4 runs done: 1 succeeded, 0 failed, 0 skipped
            backfill: 2/4 runs done: 2 succeeded, 0 failed, 0 skipped
            backfill: 3/4 runs done: 3 succeeded, 0 failed, 0 skipped
            backfill: 4/4 runs done: 4 succeeded, 0 failed, 0 skipped

            """,
            run.Error);
        var backfilled = (await CliData.RunsAsync(db)).Where(r => r.Origin == RunOrigins.Backfill).ToList();
        Assert.Equal(
            [8, 10, 11, 12],
            backfilled.Select(r => r.Cron.InUtc().Hour).Order());
    }

    [Fact]
    public async Task On_a_terminal_the_bar_is_redrawn_in_place_and_a_failed_run_exits_1()
    {
        var db = await TestDatabase.CreateAsync(servers, "cli");
        await CliData.ChainAsync(db);

        var run = await CliRunner.RunAsync(
            db.Clock, c => c with { ErrorIsTerminal = true, Delay = (_, _) => FinishOneAsync(db, RunOutcomes.Failure) },
            ["backfill", "extract", "--from", "2026-03-01T10:00:00Z", "--to", "2026-03-01T11:00:00Z", "--db", db.ConnectionString]);

        Assert.Equal(ExitCodes.Failed, run.ExitCode);
        Assert.Equal(
            "\r[..............................] 0/2 runs done: 0 succeeded, 0 failed, 0 skipped"
            + "\r[###############...............] 1/2 runs done: 0 succeeded, 1 failed, 0 skipped"
            + "\r[##############################] 2/2 runs done: 0 succeeded, 2 failed, 0 skipped\n"
            + "error: runs: 2 of 2 backfilled run(s) did not succeed (djag runs list --task extract --origin backfill --outcome failure)\n",
            run.Error);
    }

    [Fact]
    public async Task The_wait_gives_up_after_the_timeout_and_leaves_the_runs_queued()
    {
        var db = await TestDatabase.CreateAsync(servers, "cli");
        await CliData.ChainAsync(db);
        var waits = 0;

        var run = await CliRunner.RunAsync(
            db.Clock,
            c => c with
            {
                Delay = (delay, _) =>
                {
                    waits++;
                    db.Clock.Advance(delay);
                    return Task.CompletedTask;
                },
            },
            ["backfill", "extract", .. Range, "--timeout", "3", "--db", db.ConnectionString]);

        Assert.Equal(ExitCodes.Failed, run.ExitCode);
        Assert.EndsWith("error: timeout: 5 of 5 run(s) unfinished after 3 s; they stay queued\n", run.Error, StringComparison.Ordinal);
        Assert.Equal(3, waits);
        Assert.Equal(5, (await CliData.RunsAsync(db)).Count(r => r.State == RunStates.Scheduled));
    }

    [Fact]
    public async Task No_wait_returns_after_queueing()
    {
        var db = await TestDatabase.CreateAsync(servers, "cli");
        await CliData.ChainAsync(db);

        var run = await CliRunner.RunAsync(db, ["backfill", "extract", .. Range, "--no-wait"]);

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal(
            """
            backfill of extract: queued 5 run(s), 0 event(s) already ran, 2 event(s) left to the schedule
            follow them with: djag runs list --task extract --origin backfill

            """,
            run.Out);
        Assert.Equal("", run.Error);
        Assert.Equal(5L, await db.CountAsync("runs"));
    }

    [Fact]
    public async Task A_range_with_nothing_to_queue_says_so_and_does_not_wait()
    {
        var db = await TestDatabase.CreateAsync(servers, "cli");
        await CliData.ChainAsync(db);

        var run = await CliRunner.RunAsync(db, "backfill", "extract", "--from", "2026-03-01T13:00:00Z", "--to", "2026-03-01T15:00:00Z");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal("backfill of extract: queued 0 run(s), 0 event(s) already ran, 3 event(s) left to the schedule\n", run.Out);
    }

    [Theory]
    [InlineData("nope", "2026-03-01T08:00:00Z", "2026-03-01T09:00:00Z", "error: task: no task named 'nope'\n")]
    [InlineData("extract", "yesterday", "2026-03-01T09:00:00Z", "error: --from: 'yesterday' is not an ISO-8601 instant with an offset, e.g. 2026-03-29T00:00:00Z or 2026-03-29T02:00:00+02:00\n")]
    [InlineData("extract", "2026-03-01T08:00:00Z", "2026-03-01T09:00:00", "error: --to: '2026-03-01T09:00:00' is not an ISO-8601 instant with an offset, e.g. 2026-03-29T00:00:00Z or 2026-03-29T02:00:00+02:00\n")]
    [InlineData("extract", "2026-03-01T09:00:00Z", "2026-03-01T08:00:00Z", "error: to: 2026-03-01T08:00:00Z is before from (2026-03-01T09:00:00Z)\n")]
    public async Task Bad_input_exits_2_and_queues_nothing(string task, string from, string to, string expected)
    {
        var db = await TestDatabase.CreateAsync(servers, "cli");
        await CliData.ChainAsync(db);

        var run = await CliRunner.RunAsync(db, "backfill", task, "--from", from, "--to", to);

        Assert.Equal(ExitCodes.BadInput, run.ExitCode);
        Assert.Equal(expected, run.Error);
        Assert.Equal(0L, await db.CountAsync("runs"));
    }

    /// <summary>Plays the beat and a worker between two polls: the oldest queued backfill run finishes with <paramref name="outcome"/>.</summary>
    private static async Task FinishOneAsync(TestDatabase db, string outcome) =>
        await db.ExecuteAsync($"""
            UPDATE djag.runs SET state = 'finished', outcome = '{outcome}', not_before = NULL, worker = 'w1',
                dispatched_at = now(), started_at = now(), finished_at = now()
            WHERE id = (SELECT min(id) FROM djag.runs WHERE origin = 'backfill' AND state = 'scheduled')
            """);
}
