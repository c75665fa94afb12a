using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Djag.Contracts;
using Djag.Persistence;
using Djag.Persistence.Runs;
using Djag.Persistence.Schedules;
using Djag.Scheduling;
using Microsoft.EntityFrameworkCore;
using NodaTime;

namespace Djag.Beat.Telemetry;

/// <summary>
/// The beat's metrics (meter <c>Djag.Beat</c>; docs/observability.md lists them). Each instrument costs
/// nothing until an exporter listens, and the one that needs a database read (start lateness) reads only then.
/// </summary>
internal sealed class BeatMetrics
{
    /// <summary>From 5 ms (on time) to an hour (a beat that was down).</summary>
    private static readonly double[] LatenessBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

    /// <summary>A hop is a report, a transaction and a publish: milliseconds, seconds when something is wrong.</summary>
    private static readonly double[] HopBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    /// <summary>Per depender, the finish that released it last, until its next evaluation consumes it.</summary>
    private readonly ConcurrentDictionary<string, Release> _released = new(StringComparer.Ordinal);

    private readonly Histogram<double> _lateness;
    private readonly Histogram<double> _hop;
    private readonly Counter<long> _dispatched;
    private readonly Counter<long> _started;
    private readonly Counter<long> _finished;
    private readonly Counter<long> _skipped;
    private readonly Counter<long> _coalesced;
    private readonly Counter<long> _waiting;

    public BeatMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(BeatTelemetry.Name);
        _lateness = meter.CreateHistogram("djag.dispatch.lateness", "s",
            "How late a first attempt was against its cron instant: when the beat dispatched it (stage=dispatched) and when its worker started it (stage=started)",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatenessBuckets });
        _hop = meter.CreateHistogram("djag.dependency.hop", "s",
            "From a dependee's finish (the worker's finished_at) to the dispatch of a depender it released",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = HopBuckets });
        _dispatched = meter.CreateCounter<long>("djag.runs.dispatched", "{run}", "Runs published to workers (every attempt)");
        _started = meter.CreateCounter<long>("djag.runs.started", "{run}", "Runs a worker reported started");
        _finished = meter.CreateCounter<long>("djag.runs.finished", "{run}", "Runs finished, by outcome: success, failure or lost");
        _skipped = meter.CreateCounter<long>("djag.runs.skipped", "{event}", "Cron events skipped by the misfire policy or max_catchup");
        _coalesced = meter.CreateCounter<long>("djag.runs.coalesced", "{event}", "Late cron events that a newer event ran for (coalesce)");
        _waiting = meter.CreateCounter<long>("djag.evaluations.waiting", "{evaluation}",
            "Evaluations that found a due event held back by a dependency or the running limit");
    }

    /// <summary>Records a committed decision of <paramref name="task"/>; <paramref name="run"/> is the run it dispatched, if any.</summary>
    public void Evaluated(PeriodicTask task, TaskDecision decision, Run? run)
    {
        _released.TryRemove(task.Name, out var released);
        var name = new KeyValuePair<string, object?>("task", task.Name);
        if (decision.Skipped.Count > 0)
        {
            _skipped.Add(decision.Skipped.Count, name);
        }

        if (decision.Coalesced.Count > 0)
        {
            _coalesced.Add(decision.Coalesced.Count, name);
        }

        if (decision is TaskDecision.Wait)
        {
            _waiting.Add(1, name);
        }

        if (run is null)
        {
            return;
        }

        Dispatched(task, run);
        if (released is not null && run.DispatchedAt is { } dispatchedAt)
        {
            _hop.Record(Seconds(dispatchedAt - released.FinishedAt), name, new("dependee", released.Dependee));
        }
    }

    /// <summary>Records a run committed as dispatched (a scheduled event or a retry).</summary>
    public void Dispatched(PeriodicTask task, Run run)
    {
        _dispatched.Add(1, new("task", task.Name), new("queue", task.Queue), new("origin", run.Origin));
        if (run.Attempt == 1 && run.DispatchedAt is { } dispatchedAt)
        {
            _lateness.Record(Seconds(dispatchedAt - run.Cron), new("task", task.Name), new("stage", "dispatched"));
        }
    }

    /// <summary>Records the start reports the beat applied; reads their runs' tasks and crons, in one query, only when someone listens.</summary>
    public async Task StartedAsync(DjagDbContext db, IReadOnlyList<RunReport> reports, CancellationToken ct)
    {
        if (reports.Count == 0 || (!_started.Enabled && !_lateness.Enabled))
        {
            return;
        }

        var ids = reports.Select(r => r.RunId).ToArray();
        var runs = await db.Runs.AsNoTracking().Where(r => ids.Contains(r.Id))
            .Join(db.PeriodicTasks, r => r.TaskId, t => t.Id, (r, t) => new { r.Id, t.Name, r.Cron, r.Attempt })
            .ToDictionaryAsync(r => r.Id, ct);
        foreach (var report in reports)
        {
            if (runs.TryGetValue(report.RunId, out var run))
            {
                Started(run.Name, run.Cron, run.Attempt, Instant.FromDateTimeOffset(report.StartedAt));
            }
        }
    }

    /// <summary>
    /// Records a run that became final: finished with an outcome, or lost. <paramref name="startUnseen"/>: its
    /// start report never reached the beat (the finish replaced it in the bucket first), so it is counted started here.
    /// </summary>
    public void Finished(PeriodicTask task, Run run, bool startUnseen)
    {
        if (startUnseen && run.StartedAt is { } startedAt)
        {
            Started(task.Name, run.Cron, run.Attempt, startedAt);
        }

        _finished.Add(1, new("task", task.Name), new("outcome", run.Outcome));
    }

    private void Started(string task, Instant cron, int attempt, Instant startedAt)
    {
        _started.Add(1, new KeyValuePair<string, object?>("task", task));
        if (attempt == 1)
        {
            _lateness.Record(Seconds(startedAt - cron), new("task", task), new("stage", "started"));
        }
    }

    /// <summary>
    /// Notes the dependers a finish report of <paramref name="dependee"/> released, so that the dispatch their next
    /// evaluation makes is measured as a hop from the report's finish.
    /// </summary>
    public void Released(string dependee, IReadOnlyList<string> dependers, RunReport report)
    {
        if (!_hop.Enabled || dependers.Count == 0 || report.FinishedAt is not { } finishedAt)
        {
            return;
        }

        var release = new Release(dependee, Instant.FromDateTimeOffset(finishedAt));
        foreach (var depender in dependers)
        {
            _released[depender] = release;
        }
    }

    /// <summary>Negative lateness (a worker's clock ahead of the beat's) is recorded as 0, so the histogram's sum stays meaningful.</summary>
    private static double Seconds(Duration duration) => Math.Max(0, duration.TotalSeconds);

    private sealed record Release(string Dependee, Instant FinishedAt);
}
