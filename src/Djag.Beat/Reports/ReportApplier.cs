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
/// Applies a worker's report to its run and the task's counters (semantics.md section 5) in one
/// transaction, then re-evaluates the task and its dependers at once. A report is applied at most once:
/// the run's row lock and state decide, so two beats watching the same bucket, a replayed report or a
/// late report from a worker whose run was declared lost change nothing.
/// </summary>
internal sealed partial class ReportApplier(
    IDbContextFactory<DjagDbContext> factory,
    Dispatcher dispatcher,
    BeatMetrics metrics,
    TimeProvider time,
    ILogger<ReportApplier> logger)
{
    public async Task ApplyAsync(RunReport report, CancellationToken ct)
    {
        var released = report.State switch
        {
            RunReportStates.Started => await StartAsync(report, ct),
            RunReportStates.Finished => await FinishAsync(report.RunId, FinishedBy(report), ct),
            _ => null,
        };
        using var hops = metrics.MeasureHops(released, report);
        await EvaluateAsync(released, ct);
    }

    /// <summary>Declares a run lost: its worker stopped heartbeating past the lease. A lost run releases its running count but resolves no dependency.</summary>
    public async Task LoseAsync(long runId, string why, CancellationToken ct)
    {
        var released = await FinishAsync(runId, run =>
        {
            run.Outcome = RunOutcomes.Lost;
            run.Error = why;
            run.FinishedAt = Now();
            return null;
        }, ct);
        if (released is not null)
        {
            LogLost(logger, runId, why);
        }

        await EvaluateAsync(released, ct);
    }

    private async Task<IReadOnlyList<string>?> StartAsync(RunReport report, CancellationToken ct)
    {
        await using var db = await factory.CreateDbContextAsync(ct);
        var updated = await db.Runs
            .Where(r => r.Id == report.RunId && r.State == RunStates.Dispatched)
            .ExecuteUpdateAsync(s => s
                .SetProperty(r => r.State, RunStates.Running)
                .SetProperty(r => r.Worker, report.Worker)
                .SetProperty(r => r.StartedAt, Instant.FromDateTimeOffset(report.StartedAt)), ct);
        if (updated > 0)
        {
            LogStarted(logger, report.RunId, report.Worker);
            await metrics.StartedAsync(db, report, ct);
        }

        return null;
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

    /// <summary>
    /// Moves an open run to finished with what <paramref name="finish"/> sets, and books it on the task:
    /// a completion when it returns an outcome, else (lost) only the running count. Returns the tasks to
    /// re-evaluate, or null when the run was already final.
    /// </summary>
    private async Task<IReadOnlyList<string>?> FinishAsync(long runId, Func<Run, RunOutcome?> finish, CancellationToken ct)
    {
        await using var db = await factory.CreateDbContextAsync(ct);
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var run = await db.Runs.FromSql($"SELECT * FROM djag.runs WHERE id = {runId} FOR UPDATE").SingleOrDefaultAsync(ct);
        if (run is null || run.State is not (RunStates.Dispatched or RunStates.Running))
        {
            if (run is not null)
            {
                LogStale(logger, runId, run.State);
            }

            return null;
        }

        var task = await db.LockTaskAsync(run.TaskId, ct);
        run.State = RunStates.Finished;
        var startUnseen = run.StartedAt is null;
        var outcome = finish(run);
        var now = Now();
        var state = task.State.ToCore();
        task.State.Assign(outcome is { } o
            ? TaskBookkeeping.OnCompletion(state, run.Origin == RunOrigins.Manual ? null : run.Cron, now, await db.NextMarkAsync(ct), o)
            : state with { Running = Math.Max(0, state.Running - 1), LastCronEnd = now });
        if (outcome != RunOutcome.Success
            && new RetryPolicy(task.MaxRetries, Duration.FromSeconds(task.RetryBackoff)).Decide(run.Attempt, now) is { Retry: true, At: { } at, NextAttempt: { } attempt })
        {
            // The retry is a row now, so no restart forgets it; the supervisor dispatches it when it is due.
            db.Runs.Add(new Run { TaskId = task.Id, Cron = run.Cron, Attempt = attempt, Origin = RunOrigins.Retry, State = RunStates.Scheduled, NotBefore = at });
            LogRetryScheduled(logger, run.Id, attempt, at);
        }

        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        metrics.Finished(task, run, startUnseen && outcome is not null);

        // The task itself (a freed max_running slot, a self future-dependency) and every depender.
        var dependers = await db.TaskDependencies.Where(d => d.DependeeId == task.Id && d.DependerId != task.Id)
            .Select(d => d.Depender.Name).ToListAsync(ct);
        return [task.Name, .. dependers];
    }

    private async Task EvaluateAsync(IReadOnlyList<string>? tasks, CancellationToken ct)
    {
        foreach (var name in tasks ?? [])
        {
            await dispatcher.EvaluateAsync(name, ct);
        }
    }

    private Instant Now() => Instant.FromDateTimeOffset(time.GetUtcNow());

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
