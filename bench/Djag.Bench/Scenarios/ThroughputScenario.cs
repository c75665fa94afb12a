using System.Globalization;
using Djag.Bench.Infrastructure;
using Djag.Bench.Reporting;
using Djag.Persistence.Schedules;

namespace Djag.Bench.Scenarios;

/// <summary>
/// Scenario 3: end-to-end runs per second on the path Djag owns: a dependee's finish report → the beat releases the
/// depender → dispatch → worker → report → recorded. K independent chains run at once (K runs in flight); K grows until
/// the rate stops growing (saturation). Only dependency-released runs count: rate = their number / (last finish − first start).
/// </summary>
internal static class ThroughputScenario
{
    public const string Best = "throughput.best";

    public static async Task RunAsync(BenchContext bench, DjagCluster cluster, CancellationToken ct)
    {
        var report = bench.Report;
        var length = bench.Options.ThroughputChainLength;
        var best = 0.0;
        var bestChains = 0;
        foreach (var chains in bench.Options.ThroughputChains)
        {
            double rate;
            using (bench.Cpu($"throughput {chains} chains", cluster))
            {
                // The dependers' own cron events fire first and wait; the roots fire once that burst of fires is over, so
                // what is measured is the release path alone, not Quartz firing the same tasks' triggers at the same time.
                var dependers = chains * (length - 1);
                var rootsLater = TimeSpan.FromSeconds(3 + (dependers * 0.025));
                var set = await cluster.RunTogetherAsync($"tp{chains}-", (prefix, at) => new ScheduleChange
                {
                    Tasks = [.. Enumerable.Range(0, chains * length).Select(i =>
                        Schedules.Echo(Schedules.Name(prefix, i), Schedules.DailyAt(i % length == 0 ? at + rootsLater : at)))],
                    Dependencies = [.. Enumerable.Range(0, chains * length).Where(i => i % length != 0)
                        .Select(i => new DependencyEdit(Schedules.Name(prefix, i), Schedules.Name(prefix, i - 1)))],
                }, ct, quietFor: rootsLater);
                var released = set.Runs.Where(r => Index(set.Prefix, r.Task) % length != 0).ToList();
                var window = released.Max(r => r.FinishedAt!.Value) - released.Min(r => r.StartedAt!.Value);
                rate = released.Count / window.TotalSeconds;
                report.Add($"throughput.chains{chains}", rate, "runs/s", note: $"{released.Count} released runs in {window.TotalSeconds:0.0} s, {chains} in flight");
            }

            await bench.ProfileAsync($"throughput {chains} chains", cluster.ConnectionString, ct);
            if (rate > best)
            {
                (best, bestChains) = (rate, chains);
            }
        }

        report.Add(Best, best, "runs/s", Target.Min(2_000), $"at {bestChains} chains in flight, {bench.Options.Workers} workers");
    }

    private static int Index(string prefix, string name) => int.Parse(name.AsSpan(prefix.Length), CultureInfo.InvariantCulture);
}
