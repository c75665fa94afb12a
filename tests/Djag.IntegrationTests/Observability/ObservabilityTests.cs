using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using Djag.IntegrationTests.EndToEnd;
using Djag.IntegrationTests.Infrastructure;
using Djag.IntegrationTests.Persistence;
using Djag.IntegrationTests.Worker;
using Djag.Persistence.Runs;
using Djag.Persistence.Schedules;
using Djag.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Djag.IntegrationTests.Observability;

/// <summary>
/// Metrics and traces of a real beat and worker (in this process, so that listeners see both) on real
/// PostgreSQL and NATS, and the Prometheus scrape endpoints they serve when asked to.
/// </summary>
public sealed class ObservabilityTests(ServersFixture servers)
{
    private const string BeatSource = "Djag.Beat";
    private const string WorkerSource = "Djag.Worker";

    [Fact]
    public async Task A_chain_records_lateness_counts_hops_and_one_trace_per_run_from_beat_to_worker()
    {
        // Listeners see every beat and worker in this process; the tasks' names are this test's own.
        var id = Guid.NewGuid().ToString("N")[..8];
        string a = $"a{id}", b = $"b{id}", skipper = $"s{id}", coalescer = $"c{id}";
        using var activities = new ActivityRecorder();
        await using var system = await DjagSystem.StartAsync(servers, "otel");
        using var beat = system.BuildBeat();
        await using var worker = await InProcessWorker.StartAsync(system.Nats.Url);
        using var measurements = new MeasurementRecorder(beat.Services.GetRequiredService<IMeterFactory>(), worker.Services.GetRequiredService<IMeterFactory>());
        await beat.StartAsync(TestContext.Current.CancellationToken);
        try
        {
            var sleep = TestDatabase.Task(a, "*/2 * * * * *") with { Task = "djag.sleep", Kwargs = """{"seconds": 0.3}""" };

            // Yearly events whose base lies before this year's and last year's New Year: both are long late.
            var yearly = TestDatabase.Task(skipper, "0 0 0 1 1 *") with { Task = "djag.echo", GracePeriod = 1 };
            await system.ApplyAsync(new ScheduleChange
            {
                Tasks =
                [
                    sleep,
                    sleep with { Name = b },
                    yearly with { SkipMisfire = true, CronBase = Instant.FromUtc(2025, 12, 31, 23, 0) },
                    yearly with { Name = coalescer, CoalesceMisfire = true, CronBase = Instant.FromUtc(2024, 12, 31, 23, 0) },
                ],
                Dependencies = [new(b, a)],
            });
            await system.WaitForRunsAsync(
                r => r.Count(x => x.Task == b && x.Outcome == RunOutcomes.Success) >= 2 && r.Any(x => x.Task == coalescer && x.Outcome == RunOutcomes.Success),
                TimeSpan.FromSeconds(45), "b succeeded twice and the coalescing task ran");

            // The worker drains; once the beat has applied every report, the ledger and the metrics tell the same story.
            await worker.StopAsync();
            var executedByWorker = activities.Stopped(WorkerSource).Count(x => (string?)x.GetTagItem("djag.task") is { } t && (t == a || t == b || t == coalescer));
            await system.WaitForRunsAsync(r => r.Count(x => x.State == RunStates.Finished) == executedByWorker, TimeSpan.FromSeconds(10), "every report was applied");
            await beat.StopAsync(TestContext.Current.CancellationToken);
            var runs = await system.RunsAsync();

            var dispatchedA = runs.Count(r => r.Task == a && r.DispatchedAt is not null);
            Assert.Equal(dispatchedA, measurements.Sum(BeatSource, "djag.runs.dispatched", ("task", a)));
            Assert.Equal(runs.Count(r => r.Task == a && r.Outcome == RunOutcomes.Success),
                measurements.Sum(BeatSource, "djag.runs.finished", ("task", a), ("outcome", RunOutcomes.Success)));
            Assert.Equal(runs.Count(r => r.Task == a && r.StartedAt is not null), measurements.Sum(BeatSource, "djag.runs.started", ("task", a)));
            Assert.Equal(1, measurements.Sum(BeatSource, "djag.runs.skipped", ("task", skipper)));
            Assert.Equal(1, measurements.Sum(BeatSource, "djag.runs.coalesced", ("task", coalescer)));
            Assert.True(measurements.Sum(BeatSource, "djag.evaluations.waiting", ("task", b)) >= 1, "b never waited for a");

            // Lateness is what the ledger says: dispatched_at - cron and started_at - cron of each run of a.
            foreach (var (stage, at) in new (string, Func<RunRow, Instant?>)[] { ("dispatched", r => r.DispatchedAt), ("started", r => r.StartedAt) })
            {
                var ledger = runs.Where(r => r.Task == a && at(r) is not null).Select(r => (at(r)!.Value - r.Cron).TotalSeconds).Order().ToList();
                var recorded = measurements.Values(BeatSource, "djag.dispatch.lateness", ("task", a), ("stage", stage)).Order().ToList();
                Assert.Equal(ledger.Count, recorded.Count);
                Assert.All(ledger.Zip(recorded), pair => Assert.Equal(Math.Max(0, pair.First), pair.Second, 0.001));
            }

            Assert.All(measurements.Values(BeatSource, "djag.dispatch.lateness", ("task", coalescer), ("stage", "dispatched")),
                s => Assert.True(s > TimeSpan.FromDays(1).TotalSeconds, $"the coalescing run was {s} s late, not months"));

            // Each hop is what the ledger says: the dispatch of a run of b minus the finish of a run of a (the one whose
            // report released it; under load b may be catching up on an older event, so the crons need not match).
            var ledgerHops = runs.Where(r => r.Task == b && r.DispatchedAt is not null)
                .SelectMany(r => runs.Where(x => x.Task == a && x.FinishedAt <= r.DispatchedAt).Select(x => (r.DispatchedAt!.Value - x.FinishedAt!.Value).TotalSeconds))
                .ToList();
            var hops = measurements.Values(BeatSource, "djag.dependency.hop", ("task", b), ("dependee", a));
            Assert.NotEmpty(hops);
            Assert.All(hops, hop => Assert.Contains(ledgerHops, l => Math.Abs(l - hop) < 0.001));

            var durations = measurements.Values(WorkerSource, "djag.worker.run.duration", ("task", a), ("outcome", RunOutcomes.Success));
            Assert.NotEmpty(durations);
            // a sleeps 0.3 s; its timer may fire a hair before the stopwatch says 0.3 s (0.2998 seen under load), hence 0.29.
            // Milliseconds (300) or minutes (0.005) would still fail.
            Assert.All(durations, d => Assert.InRange(d, 0.29, 60));

            // Every run of a and b that a worker executed is one trace: the worker's activity is the child of the beat's dispatch.
            var executed = activities.Stopped(WorkerSource).Where(x => (string?)x.GetTagItem("djag.task") is { } t && (t == a || t == b)).ToList();
            Assert.Equal(runs.Count(r => (r.Task == a || r.Task == b) && r.Outcome == RunOutcomes.Success), executed.Count);
            var dispatches = activities.Stopped(BeatSource).Where(x => x.OperationName == "djag.dispatch" && (string?)x.GetTagItem("djag.task") is { } t && (t == a || t == b)).ToList();
            foreach (var run in executed)
            {
                var dispatch = Assert.Single(dispatches, d => Equals(d.GetTagItem("djag.run_id"), run.GetTagItem("djag.run_id")));
                Assert.Equal(dispatch.TraceId, run.TraceId);
                Assert.Equal(dispatch.SpanId, run.ParentSpanId);
                Assert.Equal(ActivityKind.Consumer, run.Kind);
                Assert.Equal("success", run.GetTagItem("djag.outcome"));
            }
        }
        finally
        {
            await beat.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task When_enabled_the_beat_and_the_worker_serve_their_metrics_to_Prometheus()
    {
        var beatPort = Loopback.FreePort();
        var workerPort = Loopback.FreePort();
        var name = $"tick{Guid.NewGuid():N}"[..12];
        await using var system = await DjagSystem.StartAsync(servers, "prom");
        using var beat = system.BuildBeat($"--Telemetry:PrometheusPort={beatPort}");
        using var worker = BuildWorker(system.Nats.Url, new() { ["Telemetry:PrometheusPort"] = workerPort.ToString(CultureInfo.InvariantCulture) });
        await worker.StartAsync(TestContext.Current.CancellationToken);
        await beat.StartAsync(TestContext.Current.CancellationToken);
        try
        {
            await system.ApplyAsync(new ScheduleChange { Tasks = [TestDatabase.Task(name, "* * * * * *") with { Task = "djag.echo" }] });
            await system.WaitForRunsAsync(r => r.Any(x => x.Outcome == RunOutcomes.Success), TimeSpan.FromSeconds(20), "a run succeeded");

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            var beatMetrics = await http.GetStringAsync(new Uri($"http://127.0.0.1:{beatPort}/metrics"), TestContext.Current.CancellationToken);
            var workerMetrics = await http.GetStringAsync(new Uri($"http://127.0.0.1:{workerPort}/metrics"), TestContext.Current.CancellationToken);

            Assert.All(
                ["djag_runs_dispatched_total{", "djag_runs_started_total{", "djag_runs_finished_total{", "djag_dispatch_lateness_seconds_bucket{",
                 $"task=\"{name}\"", "stage=\"started\"", "target_info{"],
                metric => Assert.Contains(metric, beatMetrics, StringComparison.Ordinal));
            Assert.Contains("service_name=\"djag-beat\"", beatMetrics, StringComparison.Ordinal);
            Assert.All(
                ["djag_worker_run_duration_seconds_bucket{", "djag_worker_runs_active", "djag_worker_concurrency", $"task=\"{name}\"", "outcome=\"success\""],
                metric => Assert.Contains(metric, workerMetrics, StringComparison.Ordinal));
            Assert.Contains("service_name=\"djag-worker\"", workerMetrics, StringComparison.Ordinal);
        }
        finally
        {
            await beat.StopAsync(CancellationToken.None);
            await worker.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Bad_telemetry_and_nats_settings_fail_the_start_naming_each_setting()
    {
        await using var system = await DjagSystem.StartAsync(servers, "badotel");
        using var beat = system.BuildBeat(
            "--Telemetry:PrometheusPort=70000", "--Telemetry:PrometheusHost=not a host", "--Telemetry:Otlp=collector:4317", "--Telemetry:OtlpProtocol=thrift");
        var beatFailure = await Assert.ThrowsAsync<OptionsValidationException>(() => beat.StartAsync(TestContext.Current.CancellationToken));

        // The worker's NATS connection reads its options when it is built, so that failure comes alone.
        using var worker = BuildWorker(system.Nats.Url, new() { ["Nats:Replicas"] = "7" });
        var workerFailure = await Assert.ThrowsAsync<OptionsValidationException>(() => worker.StartAsync(TestContext.Current.CancellationToken));

        string[] expected =
        [
            "Telemetry:PrometheusPort (DJAG_TELEMETRY__PROMETHEUS_PORT) is 70000;",
            "Telemetry:PrometheusHost (DJAG_TELEMETRY__PROMETHEUS_HOST) 'not a host' is not",
            "Telemetry:Otlp (DJAG_TELEMETRY__OTLP) 'collector:4317' is not",
            "Telemetry:OtlpProtocol (DJAG_TELEMETRY__OTLP_PROTOCOL) 'thrift' is not",
        ];
        Assert.Equal(expected.Length, beatFailure.Failures.Count());
        Assert.All(expected.Zip(beatFailure.Failures), pair => Assert.StartsWith(pair.First, pair.Second, StringComparison.Ordinal));
        Assert.StartsWith("Nats:Replicas (DJAG_NATS__REPLICAS) is 7;", Assert.Single(workerFailure.Failures), StringComparison.Ordinal);
    }

    /// <summary>A worker host configured as a worker process would be, from settings rather than code.</summary>
    private static IHost BuildWorker(string natsUrl, Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>(settings)
        {
            ["NatsUrl"] = natsUrl,
            ["WorkerId"] = $"otel-{Guid.NewGuid():N}"[..16],
        });
        builder.Logging.AddProvider(new TestOutputLoggerProvider());
        builder.AddDjagWorker();
        return builder.Build();
    }

    /// <summary>Every activity of Djag's sources in this process that stopped while it listened.</summary>
    private sealed class ActivityRecorder : IDisposable
    {
        private readonly ConcurrentQueue<Activity> _stopped = new();
        private readonly ActivityListener _listener;

        public ActivityRecorder()
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name is BeatSource or WorkerSource,
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = _stopped.Enqueue,
            };
            ActivitySource.AddActivityListener(_listener);
        }

        public List<Activity> Stopped(string source) => _stopped.Where(a => a.Source.Name == source).ToList();

        public void Dispose() => _listener.Dispose();
    }

    /// <summary>Every measurement of the instruments that the given hosts' meter factories created.</summary>
    private sealed class MeasurementRecorder : IDisposable
    {
        private readonly ConcurrentQueue<(string Meter, string Instrument, double Value, KeyValuePair<string, object?>[] Tags)> _measurements = new();
        private readonly MeterListener _listener = new();

        public MeasurementRecorder(params IMeterFactory[] factories)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (factories.Any(f => ReferenceEquals(instrument.Meter.Scope, f)))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
            _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
            _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Add(instrument, value, tags));
            _listener.Start();
        }

        public List<double> Values(string meter, string instrument, params (string Key, string Value)[] tags) =>
            _measurements
                .Where(m => m.Meter == meter && m.Instrument == instrument && tags.All(t => m.Tags.Any(x => x.Key == t.Key && Equals(x.Value, t.Value))))
                .Select(m => m.Value).ToList();

        public double Sum(string meter, string instrument, params (string Key, string Value)[] tags) => Values(meter, instrument, tags).Sum();

        public void Dispose() => _listener.Dispose();

        private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags) =>
            _measurements.Enqueue((instrument.Meter.Name, instrument.Name, value, tags.ToArray()));
    }
}
