using Djag.Contracts;
using Djag.IntegrationTests.EndToEnd;
using Djag.IntegrationTests.Infrastructure;
using Djag.IntegrationTests.Persistence;
using Djag.Persistence.Runs;
using Djag.Persistence.Schedules;
using Djag.TestKit;
using Microsoft.EntityFrameworkCore;
using NATS.Net;
using NodaTime;

namespace Djag.IntegrationTests.Reliability;

/// <summary>
/// Faults injected into the whole system (beat and worker processes, PostgreSQL, NATS) while a chain
/// extract -> transform -> load fires every second; afterwards the ledger must hold (see <see cref="Ledger"/>).
/// </summary>
/// <remarks>
/// The class runs alone, after the parallel tests: with the rest of the suite beside it, the beat fell 40 s
/// behind a one-second chain (its dispatch rate and the causes are in bench/RESULTS.md) and the chain never
/// got going before the fault.
/// </remarks>
[Collection(FaultsCollection.Name)]
public sealed class FaultTests(ServersFixture servers)
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(60);


    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Nats_restart_in_the_middle_of_a_burst_loses_and_doubles_nothing()
    {
        await using var system = await StartChainAsync("f_nats");

        await system.Nats.RestartAsync(Ct);
        var restarted = TimeProvider.System.GetTimestamp();

        await WaitForProgressAsync(system, "after the NATS restart");
        TestContext.Current.TestOutputHelper?.WriteLine($"three loads succeeded {TimeProvider.System.GetElapsedTime(restarted).TotalSeconds:0.0} s after NATS was back");
        await Ledger.QuiesceAndCheckAsync(system, Settle);
    }

    [Fact]
    public async Task Postgres_restart_in_the_middle_of_a_burst_loses_and_doubles_nothing()
    {
        await using var postgres = await PostgresServer.StartAsync(Ct);
        await using var system = await StartChainAsync("f_pg", postgres);

        await postgres.RestartAsync(Ct);
        await ReconnectAsync(system);

        await WaitForProgressAsync(system, "after the PostgreSQL restart");
        await Ledger.QuiesceAndCheckAsync(system, Settle);
    }

    /// <summary>
    /// A thousand tasks fire on the same second every ten seconds; while the two beats (both take triggers: a Quartz
    /// cluster has no standby) are dispatching one burst, one of them is SIGKILLed. Its acquired and half-handled
    /// triggers are recovered by the other beat, which the ledger must show as every event dispatched once.
    /// </summary>
    [Fact]
    public async Task Killing_a_beat_in_the_middle_of_a_burst_of_a_thousand_dispatches_loses_and_doubles_nothing()
    {
        const int Tasks = 1000;
        await using var system = await DjagSystem.StartAsync(servers, "f_burst");
        system.StartWorker();
        system.StartWorker();
        var victim = system.StartBeatProcess();
        await system.ApplyAsync(new ScheduleChange
        {
            Tasks = [.. Enumerable.Range(0, Tasks).Select(i => TestDatabase.Task($"b{i:D4}", "*/10 * * * * *") with { Task = "djag.echo" })],
        });
        await WaitForBurstsAsync(system, Tasks, 1, "a first burst ran on one beat");
        system.StartBeatProcess();
        await WaitForBurstsAsync(system, Tasks, 2, "a burst ran with two beats");

        var (cron, dispatched) = await CatchHalfDispatchedBurstAsync(system, Tasks);
        victim.Kill();

        var runs = await WaitForBurstsAsync(system, Tasks, 2, "two more bursts ran after the kill", after: cron);
        Assert.Equal(Tasks, runs.Count(r => r.Cron == cron && r.Attempt == 1));
        var spans = runs.Where(r => r.Attempt == 1 && r.DispatchedAt is not null).GroupBy(r => r.Cron).OrderBy(g => g.Key)
            .Select(g => $"{(g.Max(r => r.DispatchedAt!.Value) - g.Key).TotalSeconds:0.0}{(g.Key == cron ? " (killed)" : "")}");
        TestContext.Current.TestOutputHelper?.WriteLine($"killed with {dispatched} of {Tasks} dispatched; each burst's last dispatch, seconds after its cron: {string.Join(", ", spans)}");
        Assert.True(dispatched is > 0 and < Tasks, $"the beat was killed with {dispatched} of {Tasks} dispatched");
        await Ledger.QuiesceAndCheckAsync(system, Settle);
    }

    [Fact]
    public async Task A_frozen_worker_past_its_lease_is_lost_and_its_late_report_changes_nothing()
    {
        await using var system = await DjagSystem.StartAsync(servers, "f_zombie");
        var zombie = system.StartWorker();
        await system.StartBeatAsync();
        await system.ApplyAsync(new ScheduleChange
        {
            Tasks =
            [
                TestDatabase.Task("slow", "0 0 0 1 1 *") with
                {
                    Task = "djag.sleep", Kwargs = """{"seconds": 2}""", MaxRetries = 1, CronBase = Instant.FromUtc(2025, 12, 31, 23, 0),
                },
            ],
        });
        await system.WaitForRunsAsync(r => r.Any(x => x.State == RunStates.Running), TimeSpan.FromSeconds(30), "the run started");

        zombie.Freeze();
        system.StartWorker();
        await system.WaitForRunsAsync(r => r.Any(x => x.Outcome == RunOutcomes.Lost), TimeSpan.FromSeconds(30), "the frozen worker's run was declared lost");
        zombie.Thaw();

        var runs = await system.WaitForRunsAsync(r => r.Any(x => x is { Attempt: 2, Outcome: RunOutcomes.Success }), TimeSpan.FromSeconds(30), "the retry succeeded");
        await Task.Delay(TimeSpan.FromSeconds(3), Ct); // the zombie finishes its sleep and reports
        runs = await system.RunsAsync();
        Assert.Equal(RunOutcomes.Lost, Assert.Single(runs, r => r.Attempt == 1).Outcome);
        Assert.Empty(await Ledger.ProblemsAsync(system));
    }

    [Fact]
    public async Task A_run_committed_by_a_beat_that_died_before_publishing_is_published_by_the_next_beat()
    {
        await using var system = await DjagSystem.StartAsync(servers, "f_unpublished");
        system.StartWorker();
        await system.ApplyAsync(new ScheduleChange { Tasks = [TestDatabase.Task("once", "0 0 0 1 1 *") with { Task = "djag.echo", CronBase = Instant.FromUtc(2026, 6, 1, 0, 0) }] });

        // What a beat leaves when it is killed between its commit and its publish: a dispatched run nobody heard of.
        var cron = Instant.FromUtc(2026, 1, 1, 0, 0);
        await system.Database.ExecuteAsync($"""
            INSERT INTO djag.runs (task_id, cron, attempt, origin, state, dispatched_at)
            SELECT id, '{cron}', 1, 'cron', 'dispatched', now() - interval '10 seconds' FROM djag.periodic_tasks;
            UPDATE djag.periodic_tasks SET running = 1;
            """);
        await system.StartBeatAsync();

        var run = Assert.Single(await system.WaitForRunsAsync(r => r.All(DjagSystem.IsFinal), TimeSpan.FromSeconds(30), "the orphaned run ran"));
        Assert.Equal((cron, RunOutcomes.Success), (run.Cron, run.Outcome));
    }

    /// <summary>
    /// The other beat lives on: it must publish the orphan well before its full reconciliation (ResilientSyncInterval,
    /// 600 s), and the run is too young for a restarted beat's start-up reconciliation (runs older than 5 s).
    /// </summary>
    [Fact]
    public async Task A_run_committed_by_a_beat_killed_a_moment_ago_is_published_by_the_beat_that_lives_on()
    {
        await using var system = await DjagSystem.StartAsync(servers, "f_orphan");
        system.StartWorker();
        await system.ApplyAsync(new ScheduleChange { Tasks = [TestDatabase.Task("once", "0 0 0 1 1 *") with { Task = "djag.echo", CronBase = Instant.FromUtc(2026, 6, 1, 0, 0) }] });
        await system.StartBeatAsync();
        await Task.Delay(TimeSpan.FromSeconds(2), Ct); // the beat's start-up reconciliation is over

        var cron = Instant.FromUtc(2026, 1, 1, 0, 0);
        await system.Database.ExecuteAsync($"""
            INSERT INTO djag.runs (task_id, cron, attempt, origin, state, dispatched_at)
            SELECT id, '{cron}', 1, 'cron', 'dispatched', now() FROM djag.periodic_tasks;
            UPDATE djag.periodic_tasks SET running = 1;
            """);

        var run = Assert.Single(await system.WaitForRunsAsync(r => r.All(DjagSystem.IsFinal), TimeSpan.FromSeconds(30), "the orphaned run ran"));
        Assert.Equal((cron, RunOutcomes.Success), (run.Cron, run.Outcome));
    }

    [Fact]
    public async Task Schedule_edits_a_new_dependency_and_a_deleted_task_while_runs_are_in_flight()
    {
        await using var system = await StartChainAsync("f_edits");

        await system.ApplyAsync(new ScheduleChange
        {
            Tasks = [TestDatabase.Task("audit", "* * * * * *") with { Task = "djag.sleep", Kwargs = """{"seconds": 0.2}""" }],
            Dependencies = [new DependencyEdit("audit", "load")],
        });
        await system.ApplyAsync(new ScheduleChange { Tasks = [Chain()[0] with { Crontab = TestDatabase.Every("*/2 * * * * *") }] });
        await system.WaitForRunsAsync(r => r.Any(x => x.Task == "audit" && x.Outcome == RunOutcomes.Success), TimeSpan.FromSeconds(30), "audit ran after load");
        await system.ApplyAsync(new ScheduleChange { DeletedDependencies = [new DependencyKey("audit", "load")], DeletedTasks = ["audit"] });

        await WaitForProgressAsync(system, "after the edits");
        await Ledger.QuiesceAndCheckAsync(system, Settle);
    }

    [Fact]
    public async Task Garbage_in_the_reports_bucket_is_logged_and_the_beat_goes_on()
    {
        await using var system = await StartChainAsync("f_garbage");
        await using (var nats = new NatsClient(system.Nats.Url))
        {
            var store = await nats.CreateKeyValueStoreContext().GetStoreAsync(DjagNames.RunReportsBucket, Ct);
            await store.PutAsync("999999", "{not json"u8.ToArray(), cancellationToken: Ct);
            await store.PutAsync("999998", """{"run_id": 999998, "state": "finished"}"""u8.ToArray(), cancellationToken: Ct);
            await store.PutAsync("not-a-run", new byte[] { 0xff, 0x00 }, cancellationToken: Ct);
        }

        await WaitForProgressAsync(system, "after the garbage");
        await Ledger.QuiesceAndCheckAsync(system, Settle);
    }

    /// <summary>The test's own pooled connections from before a PostgreSQL restart fail once each; read until they are gone.</summary>
    private static async Task ReconnectAsync(DjagSystem system)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await system.RunsAsync();
                return;
            }
            catch (Exception) when (attempt < 50)
            {
            }
        }
    }

    /// <summary>extract -> transform -> load, every second (the dependencies are the caller's).</summary>
    internal static TaskEdit[] Chain() =>
    [
        TestDatabase.Task("extract", "* * * * * *") with { Task = "djag.sleep", Kwargs = """{"seconds": 0.2}""" },
        TestDatabase.Task("transform", "* * * * * *") with { Task = "djag.echo" },
        TestDatabase.Task("load", "* * * * * *") with { Task = "djag.echo" },
    ];

    /// <summary>Beat and two workers as processes, running the chain until a few cycles completed.</summary>
    private async Task<DjagSystem> StartChainAsync(string prefix, PostgresServer? postgres = null)
    {
        var system = await DjagSystem.StartAsync(servers, prefix, postgres);
        try
        {
            system.StartWorker();
            system.StartWorker();
            system.StartBeatProcess();
            await system.ApplyAsync(new ScheduleChange
            {
                Tasks = Chain(),
                Dependencies = [new DependencyEdit("transform", "extract"), new DependencyEdit("load", "transform")],
            });
            await WaitForProgressAsync(system, "before the fault");
            return system;
        }
        catch
        {
            await system.DisposeAsync();
            throw;
        }
    }

    /// <summary>Waits until <paramref name="count"/> cron instants (after <paramref name="after"/>) have every task succeeded.</summary>
    private static Task<List<RunRow>> WaitForBurstsAsync(DjagSystem system, int tasks, int count, string what, Instant? after = null) =>
        system.WaitForRunsAsync(
            r => r.Where(x => x.Outcome == RunOutcomes.Success && x.Cron > (after ?? Instant.MinValue)).GroupBy(x => x.Cron).Count(g => g.Count() == tasks) >= count,
            TimeSpan.FromSeconds(120), what);

    /// <summary>Polls the newest cron instant's first attempts until some but not all of a burst are dispatched.</summary>
    private static async Task<(Instant Cron, int Dispatched)> CatchHalfDispatchedBurstAsync(DjagSystem system, int tasks)
    {
        var deadline = TimeProvider.System.GetUtcNow() + TimeSpan.FromSeconds(60);
        await using var context = system.Database.Context();
        while (TimeProvider.System.GetUtcNow() < deadline)
        {
            var newest = await context.Runs.Where(r => r.Attempt == 1).GroupBy(r => r.Cron)
                .Select(g => new { Cron = g.Key, Count = g.Count() }).OrderByDescending(g => g.Cron).FirstAsync(Ct);
            if (newest.Count < tasks)
            {
                return (newest.Cron, newest.Count);
            }

            await Task.Delay(10, Ct);
        }

        Assert.Fail("no burst was caught half dispatched within 60 s");
        return default;
    }

    /// <summary>Waits until three more loads succeeded: the whole chain works.</summary>
    private static async Task WaitForProgressAsync(DjagSystem system, string when)
    {
        var done = (await system.RunsAsync()).Count(r => r is { Task: "load", Outcome: RunOutcomes.Success });
        await system.WaitForRunsAsync(r => r.Count(x => x is { Task: "load", Outcome: RunOutcomes.Success }) >= done + 3, TimeSpan.FromSeconds(60), $"the chain ran {when}");
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FaultsCollection
{
    public const string Name = "faults";
}
