using System.Diagnostics;
using System.Diagnostics.Metrics;
using Djag.Contracts;
using Djag.Worker.Runs;
using Microsoft.Extensions.Options;

namespace Djag.Worker.Telemetry;

/// <summary>The worker's metrics (meter <c>Djag.Worker</c>; docs/observability.md lists them).</summary>
internal sealed class WorkerMetrics
{
    /// <summary>Outcome of a run the worker stopped and handed back to the stream at shutdown.</summary>
    public const string GivenBack = "given_back";

    private static readonly double[] DurationBuckets = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14400];

    private readonly Histogram<double> _duration;

    public WorkerMetrics(IMeterFactory meters, RunningRuns running, IOptions<DjagWorkerOptions> options)
    {
        var meter = meters.Create(DjagWorkerTelemetry.Name);
        _duration = meter.CreateHistogram("djag.worker.run.duration", "s",
            "How long the task of a run took on this worker, by outcome: success, failure or given_back",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        meter.CreateObservableUpDownCounter("djag.worker.runs.active", () => running.Snapshot().Count, "{run}",
            "Runs this worker holds right now (claimed, executing or reporting)");
        var concurrency = options.Value.Concurrency;
        meter.CreateObservableUpDownCounter("djag.worker.concurrency", () => concurrency, "{run}",
            "How many runs this worker executes at once (its slots)");
    }

    /// <summary>Records a run's task that ended; <paramref name="outcome"/> null means it was given back.</summary>
    public void Executed(Activity? activity, RunMessage run, string? outcome, string? error, TimeSpan duration)
    {
        outcome ??= GivenBack;
        DjagWorkerTelemetry.Ended(activity, outcome, error);
        _duration.Record(duration.TotalSeconds, new("task", run.Name), new("outcome", outcome));
    }
}
