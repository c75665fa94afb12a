using System.Diagnostics;
using System.Globalization;
using Djag.Bench.Infrastructure;
using Djag.Bench.Reporting;
using Djag.Persistence.Schedules;
using Npgsql;

namespace Djag.Bench.Scenarios;

/// <summary>
/// Scenario 4: N tasks with N dependency edges on a beat of their own: the first apply (one <c>ApplyAsync</c>, as one
/// <c>djag apply</c> of the whole file) until the beat has every trigger in place, the beat's memory and CPU holding
/// them, a restart with them scheduled, and an edit until its new trigger is in the store. The crons fire daily,
/// hours away, so nothing runs while it is measured.
/// </summary>
internal static class ScaleScenario
{
    private const string Prefix = "s-";

    public static async Task RunAsync(BenchContext bench, CancellationToken ct)
    {
        var n = bench.Options.ScaleTasks;
        var report = bench.Report;
        await using var cluster = await DjagCluster.StartAsync(bench.Servers, "scale", bench.Logger, ct);
        var beat = await cluster.StartBeatAsync("bench-scale", ct);

        var hour = TimeProvider.System.GetUtcNow().Hour;
        var tasks = Enumerable.Range(0, n).Select(i => Schedules.Echo(Schedules.Name(Prefix, i),
            Schedules.Spec(string.Create(CultureInfo.InvariantCulture, $"0 {i % 60} {(hour + 2 + (i / 60 % 20)) % 24} * * *")))).ToList();

        // Chains of 100, their heads chained too, and one long edge: n edges, acyclic.
        var edges = Enumerable.Range(1, n - 1)
            .Select(i => new DependencyEdit(Schedules.Name(Prefix, i), Schedules.Name(Prefix, i % 100 != 0 ? i - 1 : i - 100)))
            .Append(new DependencyEdit(Schedules.Name(Prefix, n - 1), Schedules.Name(Prefix, 0)))
            .ToList();

        using var peak = new PeakRss(beat);
        var cpuBefore = beat.Sample()?.CpuSeconds ?? 0;
        var clock = Stopwatch.StartNew();
        using (bench.Cpu($"scale apply n={n}", cluster))
        {
            var writeLimit = TimeSpan.FromMinutes(bench.Options.Quick ? 5 : 30);
            using (var limit = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                limit.CancelAfter(writeLimit);
                try
                {
                    await cluster.ApplyAsync(new ScheduleChange { Tasks = tasks, Dependencies = edges }, limit.Token);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    report.Failed($"scale.n{n}.first_apply", "s", $"the write path had not committed {n} tasks after {writeLimit.TotalMinutes:0} min", Target.Max(180));
                    throw new TimeoutException($"ScheduleService.ApplyAsync of {n} tasks and {edges.Count} edges did not finish within {writeLimit.TotalMinutes:0} min");
                }
            }

            var written = clock.Elapsed;
            report.Add($"scale.n{n}.apply_write", written.TotalSeconds, "s", note: $"{n} tasks + {edges.Count} edges, one ApplyAsync (write path only)");
            Log.Step(bench.Logger, $"scale: write path committed {n} tasks in {written.TotalSeconds:0.0} s; waiting for the beat's triggers");
            await WaitForTriggersAsync(cluster, n, TimeSpan.FromMinutes(bench.Options.Quick ? 10 : 30), ct);
            report.Add($"scale.n{n}.first_apply", clock.Elapsed.TotalSeconds, "s", Target.Max(180), "write + beat has every trigger in place");
            report.Add($"scale.n{n}.beat_cpu_first_apply", (beat.Sample()?.CpuSeconds ?? 0) - cpuBefore, "s", note: "beat CPU seconds during the first apply");
        }

        await bench.ProfileAsync($"scale apply n={n}", cluster.ConnectionString, ct);

        // Idle: only Quartz's polling and cluster check-ins, with n triggers in the store.
        await Task.Delay(TimeSpan.FromSeconds(2), ct);
        var idle = TimeSpan.FromSeconds(bench.Options.Quick ? 5 : 15);
        var idleBefore = beat.Sample()?.CpuSeconds ?? 0;
        await Task.Delay(idle, ct);
        report.Add($"scale.n{n}.beat_cpu_idle", ((beat.Sample()?.CpuSeconds ?? 0) - idleBefore) / idle.TotalSeconds * 100, "%", note: "of one core, holding the schedule");
        report.Add($"scale.n{n}.beat_rss", Megabytes(beat.Sample()?.RssBytes ?? 0), "MB", Target.Max(300), "resident, idle after the first apply");
        report.Add($"scale.n{n}.beat_rss_peak", Megabytes(peak.Peak), "MB", note: "resident, highest seen during the first apply");

        await beat.StopAsync(TimeSpan.FromSeconds(30));
        clock.Restart();
        beat = await cluster.StartBeatAsync("bench-scale", ct);
        report.Add($"scale.n{n}.restart", clock.Elapsed.TotalSeconds, "s", Target.Max(30), "process start until the beat has synchronized every trigger and says it started");
        report.Add($"scale.n{n}.beat_rss_after_restart", Megabytes(beat.Sample()?.RssBytes ?? 0), "MB");

        var effects = new List<double>();
        var writes = new List<double>();
        for (var k = 0; k < 5; k++)
        {
            var edited = tasks[(n / 2) + k] with { Crontab = Schedules.Spec("* * * * * *") };
            clock.Restart();
            await cluster.ApplyAsync(new ScheduleChange { Tasks = [edited] }, ct);
            writes.Add(clock.Elapsed.TotalMilliseconds);
            await WaitForNextFireSoonAsync(cluster, edited.Name, ct);
            effects.Add(clock.Elapsed.TotalMilliseconds);
        }

        var effect = Distribution.Of(effects);
        report.Add($"scale.n{n}.change_in_effect.max", effect.Max, "ms", Target.Max(1_000),
            $"edit → new trigger in the store, {effects.Count} edits in order: {Join(effects)} ms (of which the write: {Join(writes)} ms)");
        await bench.ProfileAsync($"scale edits n={n}", cluster.ConnectionString, ct);
    }

    private static double Megabytes(long bytes) => bytes / 1024.0 / 1024.0;

    private static string Join(IEnumerable<double> ms) => string.Join(", ", ms.Select(e => e.ToString("0", CultureInfo.InvariantCulture)));

    private static async Task WaitForTriggersAsync(DjagCluster cluster, int n, TimeSpan timeout, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var count = await cluster.CountAsync(
                "SELECT count(*) FROM qrtz_triggers WHERE sched_name = 'djag-beat' AND trigger_group = 'djag' AND starts_with(trigger_name, @p)", ct, ("p", Prefix));
            if (count >= n)
            {
                return;
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"the beat had {count} of {n} triggers after {timeout.TotalMinutes:0} min");
            }

            // The count reads every trigger row; at 100,000 four times a second it took 10 s of PostgreSQL's CPU from the apply it measures.
            await Task.Delay(n >= 10_000 ? 1_000 : 250, ct);
        }
    }

    private static async Task WaitForNextFireSoonAsync(DjagCluster cluster, string task, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(cluster.ConnectionString);
        await connection.OpenAsync(ct);
        await using var query = new NpgsqlCommand(
            "SELECT next_fire_time FROM qrtz_triggers WHERE sched_name = 'djag-beat' AND trigger_group = 'djag' AND trigger_name = @t", connection);
        query.Parameters.AddWithValue("t", task);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (await query.ExecuteScalarAsync(ct) is long next && next < TimeProvider.System.GetUtcNow().AddSeconds(2).UtcTicks)
            {
                return;
            }

            await Task.Delay(10, ct);
        }

        throw new TimeoutException($"the edited trigger of {task} was not in the store within 30 s");
    }

    /// <summary>Samples a process's resident memory every 200 ms and keeps the highest.</summary>
    private sealed class PeakRss : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _sampling;
        private long _peak;

        public PeakRss(ServiceProcess process) => _sampling = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                Interlocked.Exchange(ref _peak, Math.Max(Interlocked.Read(ref _peak), process.Sample()?.RssBytes ?? 0));
                await Task.Delay(200, _stop.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        });

        public long Peak => Interlocked.Read(ref _peak);

        public void Dispose()
        {
            _stop.Cancel();
            _sampling.Wait();
            _stop.Dispose();
        }
    }
}
