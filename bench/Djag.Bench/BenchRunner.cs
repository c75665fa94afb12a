using System.Diagnostics;
using Djag.Bench.Infrastructure;
using Djag.Bench.Reporting;
using Djag.Bench.Scenarios;
using Microsoft.Extensions.Logging;

namespace Djag.Bench;

/// <summary>
/// Runs the scenarios in an order that keeps related figures close in time (Djag, bare Quartz and Hangfire at the same N
/// one after another), each in its own try so one failure still leaves the others' figures.
/// </summary>
internal static class BenchRunner
{
    public static async Task<int> RunAsync(BenchOptions options, CancellationToken ct)
    {
        using var loggerFactory = LoggerFactory.Create(logging => logging
            .SetMinimumLevel(LogLevel.Information)
            .AddSimpleConsole(console =>
            {
                console.SingleLine = true;
                console.TimestampFormat = "HH:mm:ss ";
            })

            // stdout carries only the figures, so progress goes to stderr.
            .AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace));
        var logger = loggerFactory.CreateLogger("djag-bench");
        var report = new Report(Console.Out);
        var failures = 0;
        var total = Stopwatch.StartNew();

        await using (var servers = await Servers.StartAsync(ct))
        {
            var bench = new BenchContext(options, servers, report, logger);
            Log.Step(logger, $"{(options.Smoke ? "smoke (its figures mean nothing)" : options.Quick ? "quick" : "full")} run; PostgreSQL on port {servers.Postgres.Port}, pg_stat_statements {(servers.HasStatementStats ? "on" : "not installed")}");

            await PhaseAsync("floor", () => FloorScenario.RunAsync(bench, ct));
            if (options.Runs("lateness") || options.Runs("hop") || options.Runs("throughput"))
            {
                await PhaseAsync("main cluster", async () =>
                {
                    await using var cluster = await DjagCluster.StartAsync(servers, "main", logger, ct);
                    await Task.WhenAll(cluster.StartBeatAsync("bench-main", ct), cluster.StartWorkersAsync(options.Workers, ct));
                    await cluster.WarmUpAsync(ct);
                    await servers.ResetStatementStatsAsync(ct);
                    var hangfire = options.SkipHangfire ? null : await HangfireSide.StartAsync(bench, ct);
                    if (options.Runs("lateness"))
                    {
                        await using var quartz = await BareQuartz.StartAsync(bench, ct);
                        await PhaseAsync("lateness", () => LatenessScenario.RunAsync(bench, cluster, quartz, hangfire, ct));
                    }

                    await PhaseAsync("hop", () => HopScenario.RunAsync(bench, cluster, hangfire, ct));
                    await PhaseAsync("throughput", () => ThroughputScenario.RunAsync(bench, cluster, ct));
                }, always: true);
            }

            await PhaseAsync("recovery", () => RecoveryScenario.RunAsync(bench, ct));
            await PhaseAsync("scale", () => ScaleScenario.RunAsync(bench, ct));
        }

        Log.Step(logger, $"bench finished in {total.Elapsed.TotalSeconds:0} s");
        report.PrintTable();
        return failures == 0 ? 0 : 1;

        async Task PhaseAsync(string name, Func<Task> run, bool always = false)
        {
            if (!always && !options.Runs(name))
            {
                return;
            }

            Log.ScenarioStarting(logger, name);
            var clock = Stopwatch.StartNew();
            try
            {
                await run();
                Log.ScenarioDone(logger, name, clock.Elapsed.TotalSeconds);
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                failures++;
                Log.ScenarioFailed(logger, e, name);
                report.Failed($"{name}.failed", "", e.GetType().Name + ": " + e.Message.Split('\n')[0]);
            }
        }
    }
}
