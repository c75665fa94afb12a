using Djag.Bench.Infrastructure;
using Djag.Bench.Reporting;
using Djag.Persistence.Schedules;
using Npgsql;

namespace Djag.Bench.Scenarios;

/// <summary>
/// Scenario 5: two beats with the default cluster settings share tasks that fire every second. The beat holding the
/// next fires (its rows in <c>qrtz_fired_triggers</c>) is killed with SIGKILL; failover = the longest any task then
/// went until its next dispatch (by the survivor). Every second's event must have exactly one run afterwards.
/// </summary>
internal static class RecoveryScenario
{
    private const string Prefix = "rec-";
    private const int Tasks = 5;

    public static async Task RunAsync(BenchContext bench, CancellationToken ct)
    {
        var report = bench.Report;
        await using var cluster = await DjagCluster.StartAsync(bench.Servers, "recovery", bench.Logger, ct);
        await cluster.StartWorkersAsync(1, ct);
        List<ServiceProcess> beats = [await cluster.StartBeatAsync("bench-beat-a", ct), await cluster.StartBeatAsync("bench-beat-b", ct)];
        await cluster.ApplyAsync(new ScheduleChange
        {
            Tasks = [.. Enumerable.Range(0, Tasks).Select(i => Schedules.Echo(Schedules.Name(Prefix, i), Schedules.Spec("* * * * * *")))],
        }, ct);
        await WaitAsync(async () => await cluster.FinishedAsync(Prefix, ct) >= Tasks * 3, TimeSpan.FromSeconds(60), "the tasks ticked three times", ct);

        // The victim must hold fires when it dies (its rows stay in qrtz_fired_triggers until the survivor recovers them);
        // one that had just handed them over measures nothing, so a fresh beat joins and the kill is tried again.
        DateTimeOffset killedAt;
        long held;
        ServiceProcess victim;
        var attempt = 0;
        while (true)
        {
            var holder = default(string);
            await WaitAsync(async () => (holder = await HolderAsync(cluster, beats, ct)) is not null, TimeSpan.FromSeconds(30), "a beat acquired the next fires", ct);
            victim = beats.Single(b => b.Name == holder);
            victim.Kill();
            killedAt = TimeProvider.System.GetUtcNow();
            held = await cluster.CountAsync("SELECT count(*) FROM qrtz_fired_triggers WHERE instance_name = @i", ct, ("i", victim.Name));
            Log.Step(bench.Logger, $"recovery: killed {victim.Name} (pid {victim.Pid}) holding {held} fires");
            if (held > 0 || ++attempt == 3)
            {
                break;
            }

            beats.Remove(victim);
            beats.Add(await cluster.StartBeatAsync($"bench-beat-{(char)('c' + attempt - 1)}", ct));
            await Task.Delay(TimeSpan.FromSeconds(3), ct);
        }

        // The timing engine's own failover: the survivor's cluster manager recovers the dead beat's fires (deletes its rows).
        var victimName = victim.Name;
        var takeover = Task.Run(async () =>
        {
            await WaitAsync(async () => await cluster.CountAsync("SELECT count(*) FROM qrtz_fired_triggers WHERE instance_name = @i", ct, ("i", victimName)) == 0,
                TimeSpan.FromSeconds(120), "the surviving beat recovered the dead one's fires", ct);
            return (TimeProvider.System.GetUtcNow() - killedAt).TotalSeconds;
        }, ct);

        try
        {
            await WaitAsync(async () => await cluster.CountAsync(
                    "SELECT count(DISTINCT r.task_id) FROM djag.runs r JOIN djag.periodic_tasks t ON t.id = r.task_id WHERE starts_with(t.name, @p) AND r.dispatched_at > @k",
                    ct, ("p", Prefix), ("k", killedAt)) == Tasks,
                TimeSpan.FromSeconds(90), "the surviving beat dispatched every task", ct);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}\n{await cluster.DescribeTimingAsync(ct)}", e);
        }
        // A few more seconds of ticks, then every event up to `last` gets time to finish (one worker may lag behind).
        await Task.Delay(TimeSpan.FromSeconds(4), ct);
        var last = TimeProvider.System.GetUtcNow().AddSeconds(-2);
        await WaitAsync(async () => await cluster.CountAsync(
                "SELECT count(*) FROM djag.runs r JOIN djag.periodic_tasks t ON t.id = r.task_id WHERE starts_with(t.name, @p) AND r.cron <= @l AND r.state IN ('scheduled', 'dispatched', 'running')",
                ct, ("p", Prefix), ("l", last)) == 0,
            TimeSpan.FromSeconds(60), "every event before the end ran", ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        var runs = await cluster.RunsAsync(Prefix, ct);

        var failover = runs.GroupBy(r => r.Task)
            .Max(g => (g.Where(r => r.DispatchedAt > killedAt).Min(r => r.DispatchedAt!.Value) - killedAt).TotalSeconds);
        var missing = 0;
        var notRun = 0;
        var doubled = 0;
        foreach (var task in runs.GroupBy(r => r.Task))
        {
            var firsts = task.Where(r => r.Attempt == 1 && r.Cron <= last).ToList();
            var seconds = (int)(firsts.Max(r => r.Cron) - firsts.Min(r => r.Cron)).TotalSeconds + 1;
            missing += seconds - firsts.Select(r => r.Cron).Distinct().Count();

            // Skipped, coalesced, or never finished within a minute.
            notRun += firsts.Count(r => r.State != "finished");
            doubled += task.GroupBy(r => r.Cron).Count(g => g.Count(r => r.State == "finished" && r.Outcome == "success") > 1);
        }

        var lost = missing + notRun;
        report.Add("recovery.failover", failover, "s", Target.Max(20), $"SIGKILL of a beat holding {held} fires → every task dispatched again; default check-in 5 s + 5 s");
        report.Add("recovery.trigger_takeover", await takeover, "s", Target.Max(20),
            "until the survivor's Quartz cluster manager recovered the dead beat's fires; the survivor may dispatch earlier, re-evaluating a task when one of its runs finishes");
        report.Add("recovery.events_lost", lost, "events", Target.Max(0), $"{Tasks} tasks every second: {missing} seconds without a run, {notRun} skipped, coalesced or unfinished after a minute");
        report.Add("recovery.events_doubled", doubled, "events", Target.Max(0));
    }

    /// <summary>The beat whose scheduler has acquired (or is firing) the most of the tasks' triggers right now.</summary>
    private static async Task<string?> HolderAsync(DjagCluster cluster, IEnumerable<ServiceProcess> live, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(cluster.ConnectionString);
        await connection.OpenAsync(ct);
        await using var query = new NpgsqlCommand(
            "SELECT instance_name FROM qrtz_fired_triggers WHERE sched_name = 'djag-beat' AND trigger_group = 'djag' AND instance_name = ANY(@live) GROUP BY instance_name ORDER BY count(*) DESC LIMIT 1",
            connection);
        query.Parameters.AddWithValue("live", live.Where(b => !b.HasExited).Select(b => b.Name).ToArray());
        return await query.ExecuteScalarAsync(ct) as string;
    }

    private static async Task WaitAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, CancellationToken ct)
    {
        var deadline = TimeProvider.System.GetUtcNow() + timeout;
        while (!await condition())
        {
            if (TimeProvider.System.GetUtcNow() > deadline)
            {
                throw new TimeoutException($"timed out after {timeout.TotalSeconds:0} s waiting until {what}");
            }

            await Task.Delay(5, ct);
        }
    }
}
