using Djag.Bench.Infrastructure;
using Djag.Bench.Reporting;
using Djag.Persistence.Schedules;

namespace Djag.Bench.Scenarios;

/// <summary>
/// Scenario 1: N tasks whose cron fires on the same second. Lateness = the worker's start (<c>runs.started_at</c>) −
/// the cron instant; its max is the time until the last of them started. Bare Quartz and Hangfire fire the same N
/// right after, so each ratio compares runs a minute apart on the same machine. Where the ratio has a target, the same
/// N fire once more with the workers paused until all are dispatched: the beat's fire path without the runs' execution
/// and reports on the same cores, which is what separates Djag's own cost from the machine's.
/// </summary>
internal static class LatenessScenario
{
    public static async Task RunAsync(BenchContext bench, DjagCluster cluster, BareQuartz quartz, HangfireSide? hangfire, CancellationToken ct)
    {
        var report = bench.Report;
        foreach (var n in bench.Options.LatenessSizes)
        {
            // The ratio has a target at 1,000 and 10,000; only sets that large last long enough for 50 ms busy samples.
            var ratioTarget = n >= 1_000 ? Target.Max(1.25) : null;
            Distribution djag;
            using (bench.Cpu($"lateness djag n={n}", cluster))
            {
                var set = await cluster.RunTogetherAsync($"lat{n}-", (prefix, at) => new ScheduleChange
                {
                    Tasks = [.. Enumerable.Range(0, n).Select(i => Schedules.Echo(Schedules.Name(prefix, i), Schedules.DailyAt(at)))],
                }, ct);
                var started = set.Runs.Where(r => r.StartedAt is not null).ToList();
                djag = Distribution.Of(started.Select(r => (r.StartedAt!.Value - set.At).TotalMilliseconds));
                var dispatched = Distribution.Of(set.Runs.Select(r => (r.DispatchedAt!.Value - set.At).TotalMilliseconds));
                report.Add($"lateness.djag.n{n}", djag, "ms", p99: n == 100 ? Target.Max(200) : null,
                    note: $"n={started.Count}; max = until the last started");
                report.Add($"lateness.djag.n{n}.dispatched.p99", dispatched.P99, "ms", note: "beat's dispatched_at − cron (stamped when decided); the rest of lateness is the pickup");
                var pickup = Distribution.Of(started.Select(r => (r.StartedAt!.Value - r.DispatchedAt!.Value).TotalMilliseconds));
                report.Add($"lateness.djag.n{n}.pickup", pickup, "ms", note: "each run's dispatched_at → started_at (its batch saved and committed, publish, worker pickup, claim)");
                if (ratioTarget is not null)
                {
                    report.Add($"lateness.djag.n{n}.machine_busy", set.BusyToLastDispatch * 100, "%", note: BusyNote("dispatch"));
                }
            }

            await bench.ProfileAsync($"lateness djag n={n}", cluster.ConnectionString, ct);
            Distribution? alone = null;
            if (ratioTarget is not null)
            {
                using (bench.Cpu($"lateness djag n={n}, workers paused", cluster))
                {
                    var set = await cluster.RunTogetherAsync($"lat{n}p-", (prefix, at) => new ScheduleChange
                    {
                        Tasks = [.. Enumerable.Range(0, n).Select(i => Schedules.Echo(Schedules.Name(prefix, i), Schedules.DailyAt(at)))],
                    }, ct, workersPaused: true);
                    alone = Distribution.Of(set.Runs.Select(r => (r.DispatchedAt!.Value - set.At).TotalMilliseconds));
                    report.Add($"lateness.djag.n{n}.dispatch_alone", alone, "ms",
                        note: "dispatched_at − cron with the workers paused until all were dispatched: the beat's fire path alone");
                    report.Add($"lateness.djag.n{n}.dispatch_alone.machine_busy", set.BusyToLastDispatch * 100, "%", note: BusyNote("dispatch"));
                    report.Add($"lateness.djag.n{n}.execution_alone", (set.Runs.Max(r => r.FinishedAt!.Value) - set.Runs.Min(r => r.StartedAt!.Value)).TotalMilliseconds, "ms",
                        note: "first start → last finish once the paused workers resumed: the runs' execution and reports, nothing firing beside them");
                }

                await bench.ProfileAsync($"lateness djag n={n}, workers paused", cluster.ConnectionString, ct);
            }

            Distribution bare;
            using (bench.Cpu($"lateness quartz n={n}", cluster))
            {
                (bare, var busy) = await quartz.FireAsync(n, ct);
                report.Add($"lateness.quartz.n{n}", bare, "ms", note: $"n={bare.Count}; max = until the last fired");
                if (ratioTarget is not null)
                {
                    report.Add($"lateness.quartz.n{n}.machine_busy", busy * 100, "%", note: BusyNote("fire"));
                }
            }

            await bench.ProfileAsync($"lateness quartz n={n}", quartz.ConnectionString, ct);
            report.Add($"lateness.ratio_to_quartz.n{n}.p99", djag.P99 / bare.P99, "x", ratioTarget);
            report.Add($"lateness.ratio_to_quartz.n{n}.max", djag.Max / bare.Max, "x", note: "time until all started");
            if (alone is not null)
            {
                report.Add($"lateness.ratio_to_quartz.n{n}.dispatch_alone.p99", alone.P99 / bare.P99, "x",
                    note: "the beat's fire path alone (workers paused) over bare Quartz");
            }

            if (hangfire is null || !bench.Options.HangfireLatenessSizes.Contains(n))
            {
                continue;
            }

            try
            {
                Distribution peer;
                using (bench.Cpu($"lateness hangfire n={n}"))
                {
                    peer = await hangfire.RecurringAsync(n, ct);
                }

                report.Add($"lateness.hangfire.n{n}", peer, "ms", note: $"n={peer.Count}; recurring jobs");
                report.Add($"lateness.ratio_to_hangfire.n{n}.p99", djag.P99 / peer.P99, "x");
            }
            catch (Exception e) when (e is TimeoutException or InvalidOperationException)
            {
                report.Failed($"lateness.hangfire.n{n}.p99", "ms", e.Message);
            }
        }
    }

    private static string BusyNote(string until) =>
        $"of both cores' time, busy from the cron second to the last {until}, all processes: below 100, the rest waited";
}
