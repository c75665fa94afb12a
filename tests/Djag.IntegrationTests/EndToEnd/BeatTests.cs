using Djag.IntegrationTests.Infrastructure;
using Djag.IntegrationTests.Persistence;
using Djag.Persistence.Runs;
using Djag.Persistence.Schedules;
using Djag.Scheduling;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Npgsql;

namespace Djag.IntegrationTests.EndToEnd;

/// <summary>The beat with real PostgreSQL, NATS and worker processes, on seconds-level crons.</summary>
public sealed class BeatTests(ServersFixture servers)
{
    private static TaskEdit Sleep(string name, string cron, double seconds) =>
        TestDatabase.Task(name, cron) with { Task = "djag.sleep", Kwargs = $$"""{"seconds": {{seconds}}}""" };

    /// <summary>Sleeps at New Year's midnight in <paramref name="timezone"/>; every New Year after <paramref name="cronBase"/> is overdue.</summary>
    private static TaskEdit Yearly(string name, double seconds, Instant cronBase, string timezone = "UTC") =>
        Sleep(name, "0 0 0 1 1 *", seconds) with { Crontab = TestDatabase.Every("0 0 0 1 1 *", timezone), CronBase = cronBase };

    [Fact]
    public async Task A_chain_runs_in_order_every_cycle_each_depender_right_after_its_dependee()
    {
        await using var system = await DjagSystem.StartAsync(servers, "chain");
        var worker = system.StartWorker();
        await system.StartBeatAsync();

        // Applied once the worker takes runs: events that fired while it still booted (14 s seen under load) would pile
        // up, and their reports would reach the beat in a burst, which is not what the hops are about.
        await DjagSystem.WaitUntilTakingRunsAsync(worker, TimeSpan.FromSeconds(60));

        await system.ApplyAsync(new ScheduleChange
        {
            Tasks = [Sleep("a", "*/5 * * * * *", 0.2), Sleep("b", "*/5 * * * * *", 0.2), Sleep("c", "*/5 * * * * *", 0.2)],
            Dependencies = [new("b", "a"), new("c", "b")],
        });
        var runs = await system.WaitForRunsAsync(
            r => r.Count(x => x.Task == "c" && x.Outcome == RunOutcomes.Success) >= 3,
            TimeSpan.FromSeconds(60), "c succeeded three times");

        var hops = new List<Duration>();
        foreach (var c in runs.Where(x => x.Task == "c" && x.Outcome == RunOutcomes.Success))
        {
            var a = DjagSystem.Single(runs, "a", c.Cron);
            var b = DjagSystem.Single(runs, "b", c.Cron);
            Assert.Equal(RunOutcomes.Success, a.Outcome);
            Assert.Equal(RunOutcomes.Success, b.Outcome);
            Assert.True(a.FinishedAt <= b.DispatchedAt, $"b dispatched at {b.DispatchedAt} before a finished at {a.FinishedAt}");
            Assert.True(b.FinishedAt <= c.DispatchedAt, $"c dispatched at {c.DispatchedAt} before b finished at {b.FinishedAt}");
            hops.Add(b.DispatchedAt!.Value - a.FinishedAt!.Value);
            hops.Add(c.DispatchedAt!.Value - b.FinishedAt!.Value);
        }

        // Event-driven: a hop costs a report, a transaction and a publish (tens of ms; the bench measures it), not a
        // polling period: a depender not released by its dependee's report would wait for its next event, 5 s on.
        // Half a cycle leaves room for a loaded machine (hops of 0.7 s seen with many tests in parallel on 2 cores,
        // 1.7 s at a load average of 45).
        var ledger = string.Join('\n', runs.Select(r => $"{r.Task} {r.Cron:HH:mm:ss} dispatched {r.DispatchedAt:HH:mm:ss.fff} started {r.StartedAt:HH:mm:ss.fff} finished {r.FinishedAt:HH:mm:ss.fff}"));
        Assert.All(hops, hop => Assert.True(hop < Duration.FromMilliseconds(2500), $"hop took {hop}\n{ledger}"));
        TestContext.Current.SendDiagnosticMessage($"hop latencies: {string.Join(", ", hops.Select(h => $"{h.TotalMilliseconds:0} ms"))}");
    }

    [Fact]
    public async Task After_the_beat_was_down_past_grace_each_misfire_policy_does_what_the_simulator_predicts()
    {
        await using var system = await DjagSystem.StartAsync(servers, "misfire");
        system.StartWorker();
        var echo = TestDatabase.Task("x", "*/4 * * * * *") with { Task = "djag.echo" };
        await system.ApplyAsync(new ScheduleChange
        {
            Tasks =
            [
                echo with { Name = "skip", SkipMisfire = true, GracePeriod = 1 },
                echo with { Name = "coalesce", CoalesceMisfire = true, GracePeriod = 1 },
                echo with { Name = "run_all" },
            ],
        });

        // Stops and restarts fall midway between events (every 4 s), two seconds from either side.
        await system.StartBeatAsync();
        var stoppedAt = await AtSecondAsync(4, 2, after: TimeProvider.System.GetUtcNow().AddSeconds(4));
        await system.StopBeatAsync();
        var restartAt = await AtSecondAsync(4, 2, after: stoppedAt.AddSeconds(10));
        await system.StartBeatAsync();
        var endAt = await AtSecondAsync(4, 2, after: restartAt.AddSeconds(5));
        await system.StopBeatAsync();
        var end = Instant.FromDateTimeOffset(endAt);

        await using var context = system.Database.Context();
        var tasks = await context.PeriodicTasks.Include(t => t.Crontab).AsNoTracking().ToListAsync(TestContext.Current.CancellationToken);
        var from = tasks.Min(t => t.CronBase);
        var predicted = Simulator.Run(new SimulationInput(
                tasks.Select(t => new SimulationTask(t.ToDefinition())).ToList(),
                [],
                from,
                end,
                [new SimulationWindow(Instant.FromDateTimeOffset(stoppedAt), Instant.FromDateTimeOffset(restartAt))]))
            .Where(e => e.Kind is SimulationEventKind.Dispatched or SimulationEventKind.Skipped or SimulationEventKind.Coalesced)
            .Select(e => $"{e.Task} {e.Cron} {e.Kind.ToString().ToLowerInvariant()}")
            .Order(StringComparer.Ordinal)
            .ToList();
        var actual = (await system.RunsAsync())
            .Where(r => r.Cron < end)
            .Select(r => $"{r.Task} {r.Cron} {(r.State is RunStates.Skipped or RunStates.Coalesced ? r.State : "dispatched")}")
            .Order(StringComparer.Ordinal)
            .ToList();

        Assert.Equal(predicted, actual);
        Assert.Contains(actual, a => a.EndsWith(" skipped", StringComparison.Ordinal));
        Assert.Contains(actual, a => a.EndsWith(" coalesced", StringComparison.Ordinal));
    }

    /// <summary>
    /// The beat hears of an edit at once (NOTIFY), not at its schedule check, 300 s away. How quickly (the target is
    /// 1 s) is the bench's <c>change_in_effect</c>; the bounds here leave room for a loaded machine and would still
    /// fail by far if the edit waited for the check.
    /// </summary>
    [Fact]
    public async Task Editing_a_cron_takes_effect_at_once_not_at_the_next_schedule_check()
    {
        await using var system = await DjagSystem.StartAsync(servers, "edit");
        await system.StartBeatAsync();
        var yearly = TestDatabase.Task("edited", "0 0 0 1 1 *") with { Task = "djag.echo" };
        await system.ApplyAsync(new ScheduleChange { Tasks = [yearly] });
        await WaitForTriggerAsync(system, next => next > DateTimeOffset.UtcNow.AddDays(1), TimeSpan.FromSeconds(20));

        var edited = TimeProvider.System.GetTimestamp();
        var editedAt = Instant.FromDateTimeOffset(TimeProvider.System.GetUtcNow());
        await system.ApplyAsync(new ScheduleChange { Tasks = [yearly with { Crontab = TestDatabase.Every("* * * * * *") }] });
        await WaitForTriggerAsync(system, next => next < DateTimeOffset.UtcNow.AddSeconds(2), TimeSpan.FromSeconds(20));
        var inEffect = TimeProvider.System.GetElapsedTime(edited);

        // And the beat dispatches under the new cron (the ledger's dispatched_at, not a worker's start; the yearly
        // cron has no event before New Year).
        var runs = await system.WaitForRunsAsync(r => r.Any(x => x.Task == "edited" && x.DispatchedAt is not null), TimeSpan.FromSeconds(20), "the beat dispatched the edited task");
        var dispatchedAt = runs.Where(x => x.Task == "edited" && x.DispatchedAt is not null).Min(x => x.DispatchedAt!.Value);
        Assert.InRange(dispatchedAt, editedAt, editedAt + Duration.FromSeconds(20));
        TestContext.Current.SendDiagnosticMessage($"edit -> new trigger in effect: {inEffect.TotalMilliseconds:0} ms, first dispatch: {(dispatchedAt - editedAt).TotalMilliseconds:0} ms");

        // The beat consumed both changes: their actions moved to the audit table, payload and creation time kept.
        Assert.Equal(0, await system.Database.CountAsync("user_actions"));
        Assert.Equal(2, await system.Database.CountAsync("user_action_audits"));
        await using var connection = new NpgsqlConnection(system.Database.ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var audit = new NpgsqlCommand(
            "SELECT count(*) FROM djag.user_action_audits WHERE action = 'TASK_CHANGED' AND payload = '{\"task\": \"edited\", \"change\": \"saved\"}' AND delete_dt >= create_dt", connection);
        Assert.Equal(2L, await audit.ExecuteScalarAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Killing_one_of_two_beats_loses_and_duplicates_nothing()
    {
        await using var system = await DjagSystem.StartAsync(servers, "failover");
        system.StartWorker();
        await system.ApplyAsync(new ScheduleChange { Tasks = [TestDatabase.Task("tick", "* * * * * *") with { Task = "djag.echo" }] });
        // Two beat processes start (JIT, migrations check, Quartz cluster check-in) in seconds alone and in over 40 s beside the
        // rest of the suite on two cores; the limits only bound how long a failure takes.
        var first = system.StartBeatProcess();
        system.StartBeatProcess();
        await system.WaitForRunsAsync(r => r.Count(x => x.Outcome == RunOutcomes.Success) >= 4, TimeSpan.FromSeconds(90), "four ticks ran");

        first.Kill();
        var killedAt = Instant.FromDateTimeOffset(TimeProvider.System.GetUtcNow());
        var runs = await system.WaitForRunsAsync(
            r => r.Count(x => x.Cron > killedAt + Duration.FromSeconds(5) && x.Outcome == RunOutcomes.Success) >= 3,
            TimeSpan.FromSeconds(90), "the surviving beat carried on");

        var crons = runs.Where(r => r.Task == "tick").Select(r => r.Cron).ToList();
        var expected = Enumerable.Range(0, (int)(crons.Max() - crons.Min()).TotalSeconds + 1).Select(s => crons.Min() + Duration.FromSeconds(s)).ToList();
        Assert.Equal(expected, crons);                       // every second once: nothing lost, nothing doubled
        Assert.All(runs, r => Assert.Equal(1, r.Attempt));
        Assert.All(runs, r => Assert.NotEqual(RunStates.Skipped, r.State));
    }

    [Fact]
    public async Task A_failed_run_is_retried_after_its_backoff_until_its_retries_are_used_up()
    {
        await using var system = await DjagSystem.StartAsync(servers, "retry");
        system.StartWorker();
        await system.StartBeatAsync();

        // A yearly cron whose base lies just before New Year: exactly one event is due, at once.
        await system.ApplyAsync(new ScheduleChange
        {
            Tasks =
            [
                TestDatabase.Task("flaky", "0 0 0 1 1 *") with
                {
                    Task = "djag.shell", Kwargs = """{"program": "/bin/false"}""", MaxRetries = 2, RetryBackoff = 1,
                    CronBase = Instant.FromUtc(2025, 12, 31, 23, 0),
                },
            ],
        });
        var runs = await system.WaitForRunsAsync(r => r.Count(x => x.State == RunStates.Finished) == 3, TimeSpan.FromSeconds(30), "three attempts finished");

        Assert.Equal([1, 2, 3], runs.Select(r => r.Attempt));
        Assert.All(runs, r => Assert.Equal(Instant.FromUtc(2026, 1, 1, 0, 0), r.Cron));
        Assert.All(runs, r => Assert.Equal(RunOutcomes.Failure, r.Outcome));
        for (var i = 1; i < runs.Count; i++)
        {
            Assert.True(runs[i].DispatchedAt >= runs[i - 1].FinishedAt + Duration.FromSeconds(1), $"attempt {i + 1} did not wait for its backoff");
        }

        await Task.Delay(TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken); // room for a wrong fourth attempt
        Assert.Equal(3, (await system.RunsAsync()).Count);
        await using var context = system.Database.Context();
        var task = await context.PeriodicTasks.AsNoTracking().SingleAsync(TestContext.Current.CancellationToken);
        Assert.Equal((0, 3L), (task.State.Running, task.State.TotalRunCount));
    }

    [Fact]
    public async Task A_run_whose_worker_died_is_declared_lost_and_retried_on_another_worker()
    {
        await using var system = await DjagSystem.StartAsync(servers, "lost");
        var doomed = system.StartWorker();
        await system.StartBeatAsync();
        await system.ApplyAsync(new ScheduleChange
        {
            Tasks =
            [
                Sleep("slow", "0 0 0 1 1 *", 4) with { MaxRetries = 1, CronBase = Instant.FromUtc(2025, 12, 31, 23, 0) },
            ],
        });
        await system.WaitForRunsAsync(r => r.Any(x => x.State == RunStates.Running), TimeSpan.FromSeconds(20), "the run started");

        doomed.Kill();
        system.StartWorker();
        var runs = await system.WaitForRunsAsync(
            r => r.Any(x => x.Attempt == 2 && x.Outcome == RunOutcomes.Success),
            TimeSpan.FromSeconds(60), "the retry succeeded on the other worker");

        var lost = Assert.Single(runs, r => r.Attempt == 1);
        Assert.Equal(RunOutcomes.Lost, lost.Outcome);
        var retry = Assert.Single(runs, r => r.Attempt == 2);
        Assert.NotEqual(lost.Worker, retry.Worker);
        await using var context = system.Database.Context();
        var task = await context.PeriodicTasks.AsNoTracking().SingleAsync(TestContext.Current.CancellationToken);
        Assert.Equal(0, task.State.Running);
        Assert.Equal(1, task.State.TotalRunCount); // a lost run completes nothing
    }

    [Theory]
    [InlineData("max_running")]
    [InlineData("self_future_dependency")]
    public async Task A_finish_lets_the_next_due_event_of_its_own_task_go_at_once(string holdsIt)
    {
        await using var system = await DjagSystem.StartAsync(servers, "own-" + holdsIt.Replace('_', '-'));
        system.StartWorker();
        await system.StartBeatAsync();

        // Three yearly events are overdue (2024, 2025, 2026) and caught up one at a time, each held until the run before
        // it finished; the trigger fires next in 2027, so only the finish of a run can let the next event go.
        await system.ApplyAsync(new ScheduleChange
        {
            Tasks =
            [
                Yearly("yearly", 0.3, Instant.FromUtc(2023, 6, 1, 0, 0)) with { MaxRunning = holdsIt == "max_running" ? 1 : null },
            ],
            Dependencies = holdsIt == "self_future_dependency" ? [new("yearly", "yearly", FutureDepends: true)] : [],
        });
        var runs = await system.WaitForRunsAsync(
            r => r.Count(x => x.Outcome == RunOutcomes.Success) == 3, TimeSpan.FromSeconds(60), "the three overdue events ran");

        var ordered = runs.OrderBy(r => r.Cron).ToList();
        Assert.Equal([2024, 2025, 2026], ordered.Select(r => r.Cron.InUtc().Year));
        for (var i = 1; i < ordered.Count; i++)
        {
            Assert.True(ordered[i - 1].FinishedAt <= ordered[i].DispatchedAt, $"{ordered[i].Cron} dispatched before {ordered[i - 1].Cron} finished");
        }
    }

    [Fact]
    public async Task A_depender_that_cannot_be_decided_holds_up_neither_the_report_nor_the_other_dependers()
    {
        await using var system = await DjagSystem.StartAsync(servers, "undecidable");
        system.StartWorker();
        await system.StartBeatAsync();
        var beforeNewYear = Instant.FromUtc(2025, 12, 31, 12, 0);
        await system.ApplyAsync(new ScheduleChange
        {
            // London's new year is UTC's, on a crontab of its own.
            Tasks = [Yearly("head", 3, beforeNewYear), Yearly("good", 0.1, beforeNewYear), Yearly("bad", 0.1, beforeNewYear, "Europe/London")],
            Dependencies = [new("good", "head"), new("bad", "head")],
        });
        await system.WaitForRunsAsync(r => r.Any(x => x.Task == "head" && x.State == RunStates.Running), TimeSpan.FromSeconds(60), "head started");

        // Behind the write path's back, so nothing but deciding bad notices: its zone no longer parses.
        Assert.Equal(1, await system.Database.ExecuteAsync("UPDATE djag.crontabs SET timezone = 'Mars/Olympus' WHERE timezone = 'Europe/London'"));

        var runs = await system.WaitForRunsAsync(
            r => r.Any(x => x.Task == "good" && x.Outcome == RunOutcomes.Success), TimeSpan.FromSeconds(60), "good ran after head");
        Assert.Equal(RunOutcomes.Success, Assert.Single(runs, x => x.Task == "head").Outcome);
        Assert.DoesNotContain(runs, x => x.Task == "bad");
        await using var context = system.Database.Context();
        var head = await context.PeriodicTasks.AsNoTracking().SingleAsync(t => t.Name == "head", TestContext.Current.CancellationToken);
        Assert.Equal((0, 1L), (head.State.Running, head.State.TotalRunCount));
    }

    [Fact]
    public async Task A_finish_that_waited_for_its_tasks_lock_books_on_the_task_as_the_lock_holder_left_it()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var system = await DjagSystem.StartAsync(servers, "finishwait");
        system.StartWorker();
        await system.StartBeatAsync();
        await system.ApplyAsync(new ScheduleChange { Tasks = [Yearly("slow", 2, Instant.FromUtc(2025, 12, 31, 12, 0))] });
        await system.WaitForRunsAsync(r => r.Any(x => x.Task == "slow" && x.State == RunStates.Running), TimeSpan.FromSeconds(60), "slow started");

        // Another transaction holds the task's row while the run finishes, and commits a change to its counters.
        await using var holder = new NpgsqlConnection(system.Database.ConnectionString);
        await holder.OpenAsync(ct);
        await using (var hold = await holder.BeginTransactionAsync(ct))
        {
            await using var command = new NpgsqlCommand("UPDATE djag.periodic_tasks SET total_run_count = 100 WHERE name = 'slow'", holder, hold);
            Assert.Equal(1, await command.ExecuteNonQueryAsync(ct));
            await system.Database.WaitForLockWaitAsync("periodic_tasks", TimeSpan.FromSeconds(30));
            await hold.CommitAsync(ct);
        }

        await system.WaitForRunsAsync(r => r.Any(x => x.Task == "slow" && x.Outcome == RunOutcomes.Success), TimeSpan.FromSeconds(60), "slow finished");
        await using var context = system.Database.Context();
        var slow = await context.PeriodicTasks.AsNoTracking().SingleAsync(t => t.Name == "slow", ct);
        Assert.Equal((0, 101L), (slow.State.Running, slow.State.TotalRunCount));
    }

    /// <summary>Waits until the wall clock is at <paramref name="offset"/> seconds into a period of <paramref name="period"/> seconds, after <paramref name="after"/>.</summary>
    private static async Task<DateTimeOffset> AtSecondAsync(int period, int offset, DateTimeOffset after)
    {
        var unix = after.ToUnixTimeSeconds();
        var target = unix - (unix % period) + offset;
        if (target <= unix)
        {
            target += period;
        }

        var at = DateTimeOffset.FromUnixTimeSeconds(target);
        var wait = at - TimeProvider.System.GetUtcNow();
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, TestContext.Current.CancellationToken);
        }

        return at;
    }

    private static async Task WaitForTriggerAsync(DjagSystem system, Func<DateTimeOffset, bool> condition, TimeSpan timeout)
    {
        var deadline = TimeProvider.System.GetUtcNow() + timeout;
        while (true)
        {
            await using var connection = new NpgsqlConnection(system.Database.ConnectionString);
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            await using var command = new NpgsqlCommand("SELECT next_fire_time FROM qrtz_triggers WHERE trigger_name = 'edited' AND trigger_group = 'djag'", connection);
            if (await command.ExecuteScalarAsync(TestContext.Current.CancellationToken) is long ticks && condition(new DateTimeOffset(ticks, TimeSpan.Zero)))
            {
                return;
            }

            Assert.True(TimeProvider.System.GetUtcNow() < deadline, $"the trigger did not change within {timeout}");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }
}
