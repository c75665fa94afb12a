using Djag.Beat.Dispatch;
using Djag.Beat.Hosting;
using Djag.Beat.Telemetry;
using Djag.Contracts;
using Djag.Persistence;
using Djag.Persistence.Runs;
using Djag.Persistence.Schedules;
using Djag.Scheduling;
using Microsoft.EntityFrameworkCore;
using NodaTime;

namespace Djag.Beat.Reports;

/// <summary>
/// Applies workers' reports to their runs and the tasks' counters (semantics.md section 5), a batch in one
/// transaction that also decides what the completed runs released: their own tasks (a freed max_running slot, a
/// self future-dependency) and their dependers, so a released depender's run is committed with the report that
/// released it and published right after. A report is applied at most once:
/// the run's row lock and state decide, so two beats watching the same bucket, a replayed report or a
/// late report from a worker whose run was declared lost change nothing.
/// </summary>
/// <remarks>
/// Locks are taken runs first, then tasks, each in id order, so two beats applying overlapping batches
/// wait for each other and never deadlock. When deciding the released tasks fails, the reports are applied
/// without it and the tasks are left to <see cref="Evaluations.Release"/>, which retries them one by one, so
/// no task that cannot be evaluated holds up the reports.
/// </remarks>
internal sealed partial class ReportApplier(
    IDbContextFactory<DjagDbContext> factory,
    Dispatcher dispatcher,
    Evaluations evaluations,
    BeatMetrics metrics,
    TimeProvider time,
    ILogger<ReportApplier> logger)
{
    public Task ApplyAsync(RunReport report, CancellationToken ct) => ApplyAsync([report], ct);

    /// <summary>Applies the start reports, then the finish reports (a run's finish supersedes its start), then releases what they completed.</summary>
    public async Task ApplyAsync(IReadOnlyCollection<RunReport> reports, CancellationToken ct)
    {
        await StartAsync([.. reports.Where(r => r.State == RunReportStates.Started)], ct);
        var finished = new Dictionary<long, RunReport>();
        foreach (var report in reports.Where(r => r.State == RunReportStates.Finished))
        {
            finished[report.RunId] = report;
        }

        var done = await FinishAsync([.. finished.Values.Select(r => (r.RunId, FinishedBy(r)))], ct);
        foreach (var (runId, names) in done.Released)
        {
            metrics.Released(names, finished[runId]);
        }

        await ReleaseAsync(done, ct);
    }

    /// <summary>Declares a run lost: its worker stopped heartbeating past the lease. A lost run releases its running count but resolves no dependency.</summary>
    public async Task LoseAsync(long runId, string why, CancellationToken ct)
    {
        var done = await FinishAsync([(runId, run =>
        {
            run.Outcome = RunOutcomes.Lost;
            run.Error = why;
            run.FinishedAt = Now();
            return null;
        })], ct);
        if (done.Released.ContainsKey(runId))
        {
            LogLost(logger, runId, why);
            await ReleaseAsync(done, ct);
        }
    }

    /// <summary>Publishes the runs the finish decided; or, when it did not decide, requests the evaluations.</summary>
    private async Task ReleaseAsync(Finished done, CancellationToken ct)
    {
        if (done.Decisions is { } decisions)
        {
            evaluations.Release(await dispatcher.PublishAsync(decisions, ct));
        }
        else
        {
            evaluations.Release(done.Released.Values.SelectMany(names => names).Distinct(StringComparer.Ordinal));
        }
    }

    private async Task StartAsync(IReadOnlyList<RunReport> reports, CancellationToken ct)
    {
        if (reports.Count == 0)
        {
            return;
        }

        await using var db = await factory.CreateDbContextAsync(ct);
        var ids = reports.Select(r => r.RunId).ToArray();
        var workers = reports.Select(r => r.Worker).ToArray();
        var starts = reports.Select(r => Instant.FromDateTimeOffset(r.StartedAt)).ToArray();
        var updated = (await db.Database.SqlQuery<long>($"""
            UPDATE djag.runs AS r SET state = {RunStates.Running}, worker = u.worker, started_at = u.started_at
            FROM unnest({ids}, {workers}, {starts}) AS u(id, worker, started_at)
            WHERE r.id = u.id AND r.state = {RunStates.Dispatched}
            RETURNING r.id AS "Value"
            """).ToListAsync(ct)).ToHashSet();
        foreach (var report in reports.Where(r => updated.Contains(r.RunId)))
        {
            LogStarted(logger, report.RunId, report.Worker);
            await metrics.StartedAsync(db, report, ct);
        }
    }

    private Func<Run, RunOutcome?> FinishedBy(RunReport report) => run =>
    {
        var success = report.Outcome == RunReportOutcomes.Success;
        run.Outcome = success ? RunOutcomes.Success : RunOutcomes.Failure;
        run.Error = report.Error;
        run.OutputTail = report.OutputTail;
        run.Worker = report.Worker;
        run.StartedAt ??= Instant.FromDateTimeOffset(report.StartedAt);
        run.FinishedAt = report.FinishedAt is { } f ? Instant.FromDateTimeOffset(f) : Now();
        LogFinished(logger, report.RunId, run.Outcome, report.Worker);
        return success ? RunOutcome.Success : RunOutcome.Failure;
    };

    private async Task<Finished> FinishAsync(IReadOnlyList<(long RunId, Func<Run, RunOutcome?> Finish)> finishes, CancellationToken ct)
    {
        if (finishes.Count == 0)
        {
            return Finished.None;
        }

        try
        {
            return await FinishAsync(finishes, decide: true, ct);
        }
#pragma warning disable CA1031 // Applied again without the decisions, which Evaluations retries task by task.
        catch (Exception ex) when (!ct.IsCancellationRequested)
#pragma warning restore CA1031
        {
            LogDecideFailed(logger, ex, finishes.Count);
            return await FinishAsync(finishes, decide: false, ct);
        }
    }

    /// <summary>
    /// Moves each open run to finished with what its function sets, and books it on its task: a completion
    /// when the function returns an outcome, else (lost) only the running count. Returns, per run that was
    /// open, the tasks it released: its own, then its dependers; with <paramref name="decide"/>, decided in the
    /// same transaction.
    /// </summary>
    private async Task<Finished> FinishAsync(IReadOnlyList<(long RunId, Func<Run, RunOutcome?> Finish)> finishes, bool decide, CancellationToken ct)
    {
        await using var db = await factory.CreateDbContextAsync(ct);
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var ids = finishes.Select(f => f.RunId).ToArray();
        var runs = await db.Runs.FromSql($"SELECT * FROM djag.runs WHERE id = ANY({ids}) ORDER BY id FOR UPDATE").ToListAsync(ct);
        foreach (var stale in runs.Where(r => r.State is not (RunStates.Dispatched or RunStates.Running)))
        {
            LogStale(logger, stale.Id, stale.State);
        }

        runs.RemoveAll(r => r.State is not (RunStates.Dispatched or RunStates.Running));
        if (runs.Count == 0)
        {
            return Finished.None;
        }

        // The dependers are read first, so that every task is locked in one statement, in id order.
        var taskIds = runs.Select(r => r.TaskId).Distinct().ToArray();
        var dependers = (await db.TaskDependencies.Where(d => taskIds.Contains(d.DependeeId) && d.DependerId != d.DependeeId)
            .Select(d => new { d.DependeeId, d.DependerId, Depender = d.Depender.Name }).ToListAsync(ct))
            .ToLookup(d => d.DependeeId);
        var locked = await db.LockTasksAsync(decide ? [.. taskIds.Union(dependers.SelectMany(d => d).Select(d => d.DependerId))] : taskIds, ct);
        var tasks = locked.Where(t => taskIds.Contains(t.Id)).ToDictionary(t => t.Id);
        var marks = await db.NextMarksAsync(runs.Count, ct);
        var finish = finishes.ToDictionary(f => f.RunId, f => f.Finish);
        var now = Now();
        var startUnseen = new HashSet<long>();
        for (var i = 0; i < runs.Count; i++)
        {
            var run = runs[i];
            var task = tasks[run.TaskId];
            var unseen = run.StartedAt is null;
            run.State = RunStates.Finished;
            var outcome = finish[run.Id](run);
            if (unseen && outcome is not null)
            {
                startUnseen.Add(run.Id);
            }

            var state = task.State.ToCore();
            task.State.Assign(outcome is { } o
                ? TaskBookkeeping.OnCompletion(state, run.Origin == RunOrigins.Manual ? null : run.Cron, now, marks[i], o)
                : state with { Running = Math.Max(0, state.Running - 1), LastCronEnd = now });
            if (outcome != RunOutcome.Success
                && new RetryPolicy(task.MaxRetries, Duration.FromSeconds(task.RetryBackoff)).Decide(run.Attempt, now) is { Retry: true, At: { } at, NextAttempt: { } attempt })
            {
                // The retry is a row now, so no restart forgets it; the supervisor dispatches it when it is due.
                db.Runs.Add(new Run { TaskId = task.Id, Cron = run.Cron, Attempt = attempt, Origin = RunOrigins.Retry, State = RunStates.Scheduled, NotBefore = at });
                LogRetryScheduled(logger, run.Id, attempt, at);
            }
        }

        // Saved before deciding: the dependers' decisions read the completions as stored.
        await db.SaveChangesAsync(ct);
        Decisions? decisions = null;
        if (decide)
        {
            decisions = await Dispatcher.DecideAsync(db, locked, now, ct);
            await db.SaveChangesAsync(ct);
        }

        await transaction.CommitAsync(ct);
        foreach (var run in runs)
        {
            metrics.Finished(tasks[run.TaskId], run, startUnseen.Contains(run.Id));
        }

        var released = runs.ToDictionary(r => r.Id, r => (IReadOnlyList<string>)[tasks[r.TaskId].Name, .. dependers[r.TaskId].Select(d => d.Depender)]);
        return new Finished(released, decisions);
    }

    private Instant Now() => Instant.FromDateTimeOffset(time.GetUtcNow());

    /// <summary>Per run that was open, the tasks it released (its own first); and, when they were decided with it, the decisions.</summary>
    private sealed record Finished(IReadOnlyDictionary<long, IReadOnlyList<string>> Released, Decisions? Decisions)
    {
        public static readonly Finished None = new(new Dictionary<long, IReadOnlyList<string>>(), null);
    }

    [LoggerMessage(EventId = BeatEventIds.DecideReleasedFailed, Level = LogLevel.Warning, Message = "Deciding what {Count} finished runs released failed; applying them without it, and evaluating the tasks they released one by one")]
    private static partial void LogDecideFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(EventId = BeatEventIds.RunStarted, Level = LogLevel.Debug, Message = "Run {RunId} started on {Worker}")]
    private static partial void LogStarted(ILogger logger, long runId, string worker);

    [LoggerMessage(EventId = BeatEventIds.RunFinished, Level = LogLevel.Information, Message = "Run {RunId} finished: {Outcome} on {Worker}")]
    private static partial void LogFinished(ILogger logger, long runId, string? outcome, string worker);

    [LoggerMessage(EventId = BeatEventIds.RunLost, Level = LogLevel.Warning, Message = "Run {RunId} is lost: {Why}")]
    private static partial void LogLost(ILogger logger, long runId, string why);

    [LoggerMessage(EventId = BeatEventIds.RetryScheduled, Level = LogLevel.Information, Message = "Run {RunId} failed; attempt {Attempt} is scheduled for {At}")]
    private static partial void LogRetryScheduled(ILogger logger, long runId, int attempt, Instant at);

    [LoggerMessage(EventId = BeatEventIds.StaleReport, Level = LogLevel.Debug, Message = "Ignored a report on run {RunId}, which is already {State}")]
    private static partial void LogStale(ILogger logger, long runId, string state);
}
