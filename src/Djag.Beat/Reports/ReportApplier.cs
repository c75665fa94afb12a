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
/// transaction, then requests evaluations of the tasks' dependers, and of a task itself when an event of it is due
/// (<see cref="Evaluations.Release"/>), and returns while they run. A report is applied at most once:
/// the run's row lock and state decide, so two beats watching the same bucket, a replayed report or a
/// late report from a worker whose run was declared lost change nothing.
/// </summary>
/// <remarks>
/// Locks are taken runs first, then tasks, each in id order, so two beats applying overlapping batches
/// wait for each other and never deadlock.
/// </remarks>
internal sealed partial class ReportApplier(
    IDbContextFactory<DjagDbContext> factory,
    Evaluations evaluations,
    BeatMetrics metrics,
    TimeProvider time,
    ILogger<ReportApplier> logger)
{
    /// <summary>Quartz's cluster asks that the beats' clocks agree within a second; this is generous.</summary>
    private static readonly Duration ClockSkewAllowance = Duration.FromSeconds(5);

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

        var released = await FinishAsync([.. finished.Values.Select(r => (r.RunId, FinishedBy(r)))], ct);
        foreach (var (runId, release) in released)
        {
            metrics.Released(release.Task, release.Dependers, finished[runId]);
        }

        evaluations.Release(released.Values.SelectMany(release => release.ToEvaluate).Distinct(StringComparer.Ordinal));
    }

    /// <summary>Declares a run lost: its worker stopped heartbeating past the lease. A lost run releases its running count but resolves no dependency.</summary>
    public async Task LoseAsync(long runId, string why, CancellationToken ct)
    {
        var released = await FinishAsync([(runId, run =>
        {
            run.Outcome = RunOutcomes.Lost;
            run.Error = why;
            run.FinishedAt = Now();
            return null;
        })], ct);
        if (released.TryGetValue(runId, out var release))
        {
            LogLost(logger, runId, why);
            evaluations.Release(release.ToEvaluate);
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
        var started = reports.Where(r => updated.Contains(r.RunId)).ToList();
        foreach (var report in started)
        {
            LogStarted(logger, report.RunId, report.Worker);
        }

        await metrics.StartedAsync(db, started, ct);
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
    /// Moves each open run to finished with what its function sets, and books it on its task: a completion
    /// when the function returns an outcome, else (lost) only the running count. Returns, per run that was
    /// open, what it releases.
    /// </summary>
    private async Task<Dictionary<long, ReleasedTasks>> FinishAsync(IReadOnlyList<(long RunId, Func<Run, RunOutcome?> Finish)> finishes, CancellationToken ct)
    {
        if (finishes.Count == 0)
        {
            return [];
        }

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
            return [];
        }

        var taskIds = runs.Select(r => r.TaskId).Distinct().ToArray();
        var (marks, dependers) = await LockTasksAsync(db, taskIds, runs.Count, ct);
        var tasks = await db.PeriodicTasks.AsNoTracking().Include(t => t.Crontab).Where(t => taskIds.Contains(t.Id)).ToDictionaryAsync(t => t.Id, ct);
        var finish = finishes.ToDictionary(f => f.RunId, f => f.Finish);
        var now = Now();
        var startUnseen = new HashSet<long>();
        var retries = new List<Run>();
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
                retries.Add(new Run { TaskId = task.Id, Cron = run.Cron, Attempt = attempt, Origin = RunOrigins.Retry, State = RunStates.Scheduled, NotBefore = at });
                LogRetryScheduled(logger, run.Id, attempt, at);
            }
        }

        await db.WriteSchedulerStateAsync(tasks.Values, runs, retries, ct);
        await transaction.CommitAsync(ct);
        foreach (var run in runs)
        {
            metrics.Finished(tasks[run.TaskId], run, startUnseen.Contains(run.Id));
        }

        var due = tasks.Values.Where(t => HasDueEvent(t, now)).Select(t => t.Id).ToHashSet();
        return runs.ToDictionary(r => r.Id, r => new ReleasedTasks(tasks[r.TaskId].Name, due.Contains(r.TaskId), [.. dependers[r.TaskId]]));
    }

    /// <summary>
    /// Whether an event of the task is due, so that the finish (a freed max_running slot, a self future-dependency) may
    /// let it start. Due by another beat's clock counts too: the beats' clocks may differ by up to
    /// <see cref="ClockSkewAllowance"/>. A crontab that does not parse is left to the evaluation to report.
    /// </summary>
    private static bool HasDueEvent(PeriodicTask task, Instant now) =>
        task.Crontab.TryToSchedule() is not { } schedule
        || TaskEvaluator.HasDueEvent(task.ToDefinition(schedule), task.State.ToCore(), now + ClockSkewAllowance);

    /// <summary>
    /// Locks the tasks (loaded after this, see <see cref="DjagDbContext.LockTasksCommand(long[])"/>), draws
    /// <paramref name="count"/> event marks, in ascending order, and reads the tasks' dependers, in one round trip in the
    /// finish's transaction. Reading the edges before the commit rather than after changes nothing: an edge added
    /// meanwhile has its depender evaluated by the change that added it.
    /// </summary>
    private static async Task<(List<long> Marks, ILookup<long, string> Dependers)> LockTasksAsync(
        DjagDbContext db, long[] taskIds, int count, CancellationToken ct)
    {
        await using var batch = await db.CreateBatchAsync(ct);
        batch.BatchCommands.Add(DjagDbContext.LockTasksCommand(taskIds));
        batch.BatchCommands.Add(DjagDbContext.NextMarksCommand(count));
        batch.BatchCommands.Add(new("""
            SELECT d.dependee_id, t.name FROM djag.task_dependencies d JOIN djag.periodic_tasks t ON t.id = d.depender_id
            WHERE d.dependee_id = ANY($1) AND d.depender_id <> d.dependee_id
            """) { Parameters = { new() { Value = taskIds } } });
        await using var reader = await batch.ExecuteReaderAsync(ct);
        await reader.NextResultAsync(ct);
        var marks = await DjagDbContext.ReadMarksAsync(reader, count, ct);
        await reader.NextResultAsync(ct);
        var dependers = new List<(long Dependee, string Depender)>();
        while (await reader.ReadAsync(ct))
        {
            dependers.Add((reader.GetInt64(0), reader.GetString(1)));
        }

        return (marks, dependers.ToLookup(d => d.Dependee, d => d.Depender));
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

/// <summary>
/// What a finished run lets be evaluated: its dependers, and its own task only when an event of it is due (otherwise
/// the evaluation could only find nothing due, and a burst of finishes would cost a burst of such evaluations).
/// </summary>
internal sealed record ReleasedTasks(string Task, bool TaskHasDueEvent, IReadOnlyList<string> Dependers)
{
    public IEnumerable<string> ToEvaluate => TaskHasDueEvent ? [Task, .. Dependers] : Dependers;
}
