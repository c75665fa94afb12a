using System.Collections.Concurrent;
using Djag.IntegrationTests.Infrastructure;
using NodaTime;

namespace Djag.IntegrationTests.Timing;

/// <summary>
/// Started schedulers on the real clock: seconds-level crons, so every wait is a few seconds at most and
/// is a poll of a condition with a generous timeout.
/// </summary>
public sealed class TimingFiringTests(ServersFixture servers)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static Instant Now => Instant.FromDateTimeOffset(TimeProvider.System.GetUtcNow());

    [Fact]
    public async Task A_seconds_cron_really_fires_the_handler_on_each_event()
    {
        var fires = new ConcurrentQueue<Fire>();
        var connectionString = await TimingHarness.NewDatabaseAsync(servers);
        await using var beat = TimingHarness.Create(connectionString, "beat-a", fires);
        var timing = TimingHarness.Timing("tick", "*/1 * * * * *", Now);
        await beat.Timer.ScheduleAsync(timing, TestContext.Current.CancellationToken);

        await beat.StartAsync();
        await TimingHarness.WaitUntilAsync(() => fires.Count >= 4, Timeout, "four fires of */1");
        await beat.StopAsync();

        var seen = fires.ToList();
        Assert.All(seen, f => Assert.Equal("tick", f.Task));
        Assert.All(seen, f => Assert.Equal("beat-a", f.Instance));
        // Quartz runs each fire's job on a pool thread, so two fires a second apart may be recorded out of order on a
        // loaded machine; what must hold is the set of events, so it is checked in the order of their scheduled times.
        var scheduled = seen.Select(f => f.Scheduled).Order().ToList();
        Assert.Equal(scheduled.Count, scheduled.Distinct().Count());
        // Each fire is the core's next event after the previous one: none lost, none invented.
        for (var i = 1; i < scheduled.Count; i++)
        {
            Assert.Equal(timing.Schedule.NextAfter(scheduled[i - 1]), scheduled[i]);
        }

        Assert.Equal(timing.Schedule.NextAfter(timing.StartAfter), scheduled[0]);
        Assert.All(seen, f => Assert.True(f.Actual >= f.Scheduled - Duration.FromSeconds(1), $"{f.Actual} fired long before {f.Scheduled}"));
    }

    [Fact]
    public async Task Tasks_added_to_a_running_beat_in_one_batch_fire_without_waiting_for_its_next_poll()
    {
        // The first new task of a batch is stored by Quartz, the others are copies of its rows: the beat's scheduler
        // thread, asleep for a minute with nothing due, must hear of the copies as it hears of a trigger Quartz stores.
        var fires = new ConcurrentQueue<Fire>();
        var connectionString = await TimingHarness.NewDatabaseAsync(servers);
        await using var beat = TimingHarness.Create(connectionString, "beat-a", fires, configure: o => o.IdleWaitTime = TimeSpan.FromMinutes(1));
        await beat.StartAsync();

        await beat.Timer.ApplyAsync(
            [TimingHarness.Timing("yearly", "0 0 0 1 1 *", Now), TimingHarness.Timing("tick", "*/1 * * * * *", Now), TimingHarness.Timing("tock", "*/1 * * * * *", Now)],
            [],
            TestContext.Current.CancellationToken);

        await TimingHarness.WaitUntilAsync(() => fires.Any(f => f.Task == "tick") && fires.Any(f => f.Task == "tock"), TimeSpan.FromSeconds(8), "both copies fire");
        Assert.DoesNotContain(fires, f => f.Task == "yearly");
    }

    [Fact]
    public async Task Years_of_missed_events_fire_once_now_and_then_the_cron_continues()
    {
        // yearly cron, pointer five years back: five missed events, one fire now, next one next year.
        //   2022-01-01 … 2026-01-01 (missed) │ start: one fire now │ next 1 January
        var fires = new ConcurrentQueue<Fire>();
        var connectionString = await TimingHarness.NewDatabaseAsync(servers);
        await using var beat = TimingHarness.Create(connectionString, "beat-a", fires);
        var pointer = Now - Duration.FromDays(5 * 366);
        var timing = TimingHarness.Timing("yearly", "0 0 0 1 1 *", pointer);
        var firstMissed = timing.Schedule.NextAfter(pointer)!.Value;
        await beat.Timer.ScheduleAsync(timing, TestContext.Current.CancellationToken);
        var started = Now;

        await beat.StartAsync();
        await TimingHarness.WaitUntilAsync(() => !fires.IsEmpty, Timeout, "the misfired trigger fires");
        Instant? next = null;
        await TimingHarness.WaitUntilAsync(() =>
        {
            next = beat.Timer.NextFireTimeAsync("yearly", TestContext.Current.CancellationToken).GetAwaiter().GetResult();
            return next > Now;
        }, Timeout, "the trigger waits for a future event again");

        var fire = Assert.Single(fires);
        Assert.Equal(firstMissed, fire.Scheduled);
        Assert.True(fire.Actual >= started - Duration.FromSeconds(1), $"fired at {fire.Actual}, before the scheduler started at {started}");
        Assert.Equal(timing.Schedule.NextAfter(fire.Actual), next);
    }

    [Fact]
    public async Task Two_clustered_beats_fire_each_event_once()
    {
        var fires = new ConcurrentQueue<Fire>();
        var connectionString = await TimingHarness.NewDatabaseAsync(servers);
        await using var a = TimingHarness.Create(connectionString, "beat-a", fires);
        await using var b = TimingHarness.Create(connectionString, "beat-b", fires);
        var start = Now;
        string[] tasks = ["t1", "t2", "t3", "t4"];
        await a.Timer.SyncAsync(tasks.Select(t => TimingHarness.Timing(t, "*/1 * * * * *", start)).ToList(), TestContext.Current.CancellationToken);

        await Task.WhenAll(a.StartAsync(), b.StartAsync());
        await TimingHarness.WaitUntilAsync(() => tasks.All(t => fires.Count(f => f.Task == t) >= 3), Timeout, "every task fired three times");
        // Both beats check in as cluster members, which is what lets one recover the other's fires after a crash.
        var members = await TimingHarness.ScalarAsync<string>(connectionString,
            "select string_agg(instance_name || ':' || checkin_interval, ',' order by instance_name) from qrtz_scheduler_state where sched_name = 'djag-beat'");
        await Task.WhenAll(a.StopAsync(), b.StopAsync());

        Assert.Equal("beat-a:1000,beat-b:1000", members);

        var duplicates = fires.GroupBy(f => (f.Task, f.Scheduled)).Where(g => g.Count() > 1).Select(g => $"{g.Key} by {string.Join(",", g.Select(f => f.Instance))}").ToList();
        Assert.True(duplicates.Count == 0, $"fired more than once: {string.Join("; ", duplicates)}");
        TestContext.Current.TestOutputHelper?.WriteLine($"fires: beat-a {fires.Count(f => f.Instance == "beat-a")}, beat-b {fires.Count(f => f.Instance == "beat-b")}");
    }

    [Fact]
    public async Task When_the_first_beat_stops_the_second_takes_over()
    {
        var fires = new ConcurrentQueue<Fire>();
        var connectionString = await TimingHarness.NewDatabaseAsync(servers);
        await using var a = TimingHarness.Create(connectionString, "beat-a", fires);
        await using var b = TimingHarness.Create(connectionString, "beat-b", fires);
        await a.Timer.ScheduleAsync(TimingHarness.Timing("tick", "*/1 * * * * *", Now), TestContext.Current.CancellationToken);
        await a.StartAsync();
        await TimingHarness.WaitUntilAsync(() => fires.Count(f => f.Instance == "beat-a") >= 2, Timeout, "beat-a fires");
        await b.StartAsync();

        await a.StopAsync();
        var stopped = Now;
        await TimingHarness.WaitUntilAsync(() => fires.Count(f => f.Instance == "beat-b" && f.Actual > stopped) >= 3, Timeout, "beat-b fires after beat-a stopped");
        await b.StopAsync();

        Assert.DoesNotContain(fires, f => f.Instance == "beat-a" && f.Actual > stopped);
        Assert.Equal(fires.Count, fires.Select(f => f.Scheduled).Distinct().Count());
        // Nothing was lost around the hand-over: the scheduled events form one unbroken */1 sequence.
        var scheduled = fires.Select(f => f.Scheduled).Order().ToList();
        for (var i = 1; i < scheduled.Count; i++)
        {
            Assert.Equal(Duration.FromSeconds(1), scheduled[i] - scheduled[i - 1]);
        }
    }

    /// <summary>
    /// A beat that dies after Quartz fired a task's trigger (and moved it to the next event, a year ahead) but before
    /// the task's event was decided: the beat that lives on recovers the fire from the dead beat's row in
    /// <c>qrtz_fired_triggers</c> and fires the task now, instead of a year later.
    /// </summary>
    [Fact]
    public async Task A_fire_a_dead_beat_did_not_finish_is_fired_again_by_the_other_beat()
    {
        var fires = new ConcurrentQueue<Fire>();
        var hanging = new HangingHandler();
        var connectionString = await TimingHarness.NewDatabaseAsync(servers);
        await using var a = TimingHarness.Create(connectionString, "beat-a", fires, handler: hanging);
        await using var b = TimingHarness.Create(connectionString, "beat-b", fires);
        var yearly = TimingHarness.Timing("yearly", "0 0 0 1 1 *", Instant.FromUtc(2025, 12, 31, 23, 0));
        await a.Timer.ScheduleAsync(yearly, TestContext.Current.CancellationToken);
        await a.StartAsync();
        await hanging.Entered.WaitAsync(Timeout, TestContext.Current.CancellationToken);

        // beat-a stops checking in with the fire unfinished, as if SIGKILLed.
        await (await a.SchedulerAsync()).Shutdown(waitForJobsToComplete: false, TestContext.Current.CancellationToken);
        Assert.Equal(1L, await TimingHarness.ScalarAsync<long>(connectionString, "select count(*) from qrtz_fired_triggers where instance_name = 'beat-a' and requests_recovery"));
        await b.StartAsync();

        await TimingHarness.WaitUntilAsync(() => fires.Any(f => f is { Instance: "beat-b", Task: "yearly" }), TimeSpan.FromSeconds(60), "beat-b fired the task the dead beat left");
        hanging.Release();
    }
}
