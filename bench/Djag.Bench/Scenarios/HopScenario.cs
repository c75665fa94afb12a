using System.Globalization;
using Djag.Bench.Infrastructure;
using Djag.Bench.Reporting;
using Djag.Persistence.Schedules;

namespace Djag.Bench.Scenarios;

/// <summary>
/// Scenario 2: a chain (each task depends on the one before) and a fan-out / fan-in DAG, all on one cron second.
/// Hop = the depender's worker start − the dependee's finish report (<c>runs.started_at − runs.finished_at</c>).
/// </summary>
internal static class HopScenario
{
    /// <summary>
    /// The chain is run this many times and its hops pooled: the 99 hops of one run make its 99th percentile its maximum,
    /// a single sample.
    /// </summary>
    private const int ChainRuns = 3;

    public static async Task RunAsync(BenchContext bench, DjagCluster cluster, HangfireSide? hangfire, CancellationToken ct)
    {
        var report = bench.Report;
        var length = bench.Options.ChainLength;
        var pairs = new List<(int Run, RunRow Dependee, RunRow Depender)>();
        using (bench.Cpu($"hop chain {length} x{ChainRuns}", cluster))
        {
            for (var run = 0; run < ChainRuns; run++)
            {
                var chain = await cluster.RunTogetherAsync($"chain{length}x{run}-", (prefix, at) => new ScheduleChange
                {
                    Tasks = [.. Enumerable.Range(0, length).Select(i => Schedules.Echo(Schedules.Name(prefix, i), Schedules.DailyAt(at)))],
                    Dependencies = [.. Enumerable.Range(1, length - 1).Select(i => new DependencyEdit(Schedules.Name(prefix, i), Schedules.Name(prefix, i - 1)))],
                }, ct);
                var runs = chain.Runs.ToDictionary(r => r.Task, StringComparer.Ordinal);
                pairs.AddRange(Enumerable.Range(1, length - 1).Select(i => (run, runs[Schedules.Name(chain.Prefix, i - 1)], runs[Schedules.Name(chain.Prefix, i)])));
            }
        }

        static double Hop((int Run, RunRow Dependee, RunRow Depender) p) => (p.Depender.StartedAt!.Value - p.Dependee.FinishedAt!.Value).TotalMilliseconds;
        var hops = Distribution.Of(pairs.Select(Hop));
        var maxima = string.Join(", ", pairs.GroupBy(p => p.Run).Select(g =>
        {
            var (hop, index) = g.Select((p, i) => (Hop(p), i + 1)).Max();
            return string.Create(CultureInfo.InvariantCulture, $"{hop:0.#} ms (hop {index})");
        }));
        var beatShare = Distribution.Of(pairs.Select(p => (p.Depender.DispatchedAt!.Value - p.Dependee.FinishedAt!.Value).TotalMilliseconds));
        report.Add($"hop.chain{length}", hops, "ms", p50: Target.Max(5), p99: Target.Max(25), note: $"n={hops.Count}: {ChainRuns} runs of the chain, whose slowest hops took {maxima}");
        report.Add($"hop.chain{length}.to_dispatch.p50", beatShare.P50, "ms", note: "dependee finished_at → depender dispatched_at (report + beat); the rest is worker pickup");
        var pickup = Distribution.Of(pairs.Select(p => (p.Depender.StartedAt!.Value - p.Depender.DispatchedAt!.Value).TotalMilliseconds));
        report.Add($"hop.chain{length}.pickup", pickup, "ms", note: "depender dispatched_at → started_at (publish, worker pickup, claim)");
        if (report.Value(FloorScenario.Sum) is { } floor and > 0)
        {
            report.Add($"hop.chain{length}.p50_x_floor", hops.P50 / floor, "x", note: $"floor {floor:0.###} ms");
        }

        await bench.ProfileAsync($"hop chain {length}", cluster.ConnectionString, ct);

        var width = bench.Options.FanWidth;
        using (bench.Cpu($"hop fan {width}", cluster))
        {
            var fan = await cluster.RunTogetherAsync($"fan{width}-", (prefix, at) =>
            {
                var root = Schedules.Name(prefix, 0);
                var sink = Schedules.Name(prefix, width + 1);
                var middles = Enumerable.Range(1, width).Select(i => Schedules.Name(prefix, i)).ToList();
                return new ScheduleChange
                {
                    Tasks = [.. Enumerable.Range(0, width + 2).Select(i => Schedules.Echo(Schedules.Name(prefix, i), Schedules.DailyAt(at)))],
                    Dependencies = [.. middles.Select(m => new DependencyEdit(m, root)), .. middles.Select(m => new DependencyEdit(sink, m))],
                };
            }, ct);
            var runs = fan.Runs.ToDictionary(r => r.Task, StringComparer.Ordinal);
            var rootRun = runs[Schedules.Name(fan.Prefix, 0)];
            var sinkRun = runs[Schedules.Name(fan.Prefix, width + 1)];
            var middleRuns = Enumerable.Range(1, width).Select(i => runs[Schedules.Name(fan.Prefix, i)]).ToList();
            var fanOut = Distribution.Of(middleRuns.Select(m => (m.StartedAt!.Value - rootRun.FinishedAt!.Value).TotalMilliseconds));
            report.Add($"hop.fanout{width}", fanOut, "ms", note: $"n={fanOut.Count}; max = until the last of the fan started");
            report.Add($"hop.fanin{width}", (sinkRun.StartedAt!.Value - middleRuns.Max(m => m.FinishedAt!.Value)).TotalMilliseconds, "ms",
                note: "sink start − last middle finish");
        }

        await bench.ProfileAsync($"hop fan {width}", cluster.ConnectionString, ct);

        if (hangfire is not null)
        {
            try
            {
                var peer = await hangfire.ChainAsync(length, ct);
                report.Add($"hop.hangfire.chain{length}", peer, "ms", note: $"n={peer.Count}; continuations");
            }
            catch (Exception e) when (e is TimeoutException or InvalidOperationException)
            {
                report.Failed($"hop.hangfire.chain{length}.p50", "ms", e.Message);
            }
        }
    }
}
