using Djag.Beat.Hosting;
using Djag.Beat.Telemetry;
using Djag.Persistence;
using Djag.Persistence.Runs;
using Djag.Persistence.Schedules;
using Djag.Scheduling;
using Microsoft.EntityFrameworkCore;
using NodaTime;

namespace Djag.Beat.Dispatch;

/// <summary>
/// Asks the core what tasks do now and carries it out: records skipped and coalesced events, inserts the
/// runs of due events and publishes them. Called (through <see cref="Evaluations"/>) when a trigger fires,
/// when a run of the task or of a dependee completes, and when its schedule changes — never by polling.
/// </summary>
/// <remarks>
/// A batch of tasks is evaluated in one transaction that holds their row locks, so two beats on one database
/// evaluate a task one after the other, and the unique (task, cron, attempt) index makes a second insert of an
/// event impossible. Evaluating a batch from one snapshot is the same as evaluating its tasks one by one: an
/// evaluation writes only its own task's state, and reads of other tasks only their completion marks, which
/// only reports change.
/// </remarks>
internal sealed partial class Dispatcher(
    IDbContextFactory<DjagDbContext> factory,
    RunPublisher publisher,
    BeatMetrics metrics,
    TimeProvider time,
    ILogger<Dispatcher> logger)
{
    /// <summary>Bounds one catch-up burst, so a long backlog cannot starve other work; the trigger fires again.</summary>
    private const int MaxRounds = 1000;

    /// <summary>Evaluates the named tasks until none has another event due at once (catch-up).</summary>
    public async Task EvaluateAsync(IReadOnlyCollection<string> names, CancellationToken ct)
    {
        for (var round = 0; round < MaxRounds && names.Count > 0; round++)
        {
            names = await EvaluateOnceAsync(names, ct);
        }
    }

    /// <summary>One decision per task; returns the tasks for which the core says another event is due at once.</summary>
    private async Task<IReadOnlyCollection<string>> EvaluateOnceAsync(IReadOnlyCollection<string> names, CancellationToken ct)
    {
        var dispatched = new List<(Run Run, PeriodicTask Task)>();
        var again = new List<string>();
        await using (var db = await factory.CreateDbContextAsync(ct))
        {
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            var (locked, inputs, marks) = await db.LockForEvaluationAsync(names, ct);
            var tasks = locked.Where(t => t.Enabled).ToList();
            var now = Instant.FromDateTimeOffset(time.GetUtcNow());
            var decisions = tasks.Select(t => (Task: t, Decision: inputs[t.Id].Evaluate(t, now))).ToList();
            var runs = new Run?[decisions.Count];
            var inserts = new List<Run>();
            var changed = new List<PeriodicTask>();
            var next = 0;
            for (var i = 0; i < decisions.Count; i++)
            {
                var (task, decision) = decisions[i];
                inserts.AddRange(Misfires(task, decision, now));
                long mark = 0;
                if (decision is TaskDecision.Dispatch dispatch)
                {
                    mark = marks[next++];
                    runs[i] = new Run { TaskId = task.Id, Cron = dispatch.Event, State = RunStates.Dispatched, DispatchedAt = now };
                    inserts.Add(runs[i]!);
                }

                var before = task.State.ToCore();
                var after = TaskBookkeeping.Apply(before, decision, now, mark);
                if (after != before)
                {
                    task.State.Assign(after);
                    changed.Add(task);
                }
            }

            // A task still waiting (a fan-in released by each of its dependees' finishes) is locked and decided, not rewritten.
            await db.WriteSchedulerStateAsync(changed, [], inserts, ct);
            await transaction.CommitAsync(ct);
            for (var i = 0; i < decisions.Count; i++)
            {
                var (task, decision) = decisions[i];
                metrics.Evaluated(task, decision, runs[i]);
                if (runs[i] is { } run)
                {
                    LogDispatched(logger, task.Name, run.Cron, run.Id, now - run.Cron);
                    dispatched.Add((run, task));
                    if (decision.NextEvaluationAt is { } at && at <= now)
                    {
                        again.Add(task.Name);
                    }
                }
                else if (decision is TaskDecision.Wait wait)
                {
                    LogWaiting(logger, task.Name, wait.Event, string.Join("; ", wait.Reasons));
                }
            }
        }

        // Published together, so their acknowledgements come back in one round trip rather than one each.
        await Task.WhenAll(dispatched.Select(d => publisher.PublishAsync(d.Run, d.Task, ct)));
        return again;
    }

    /// <summary>The rows recording the events the decision skipped and coalesced.</summary>
    private static IEnumerable<Run> Misfires(PeriodicTask task, TaskDecision decision, Instant now)
    {
        if (decision.Skipped.Count > 0)
        {
            var definition = task.ToDefinition();
            foreach (var cron in decision.Skipped)
            {
                yield return new Run { TaskId = task.Id, Cron = cron, State = RunStates.Skipped, Reason = MisfireReasons.Skipped(definition, cron, now) };
            }
        }

        foreach (var cron in decision.Coalesced)
        {
            yield return new Run { TaskId = task.Id, Cron = cron, State = RunStates.Coalesced, Reason = MisfireReasons.Coalesced };
        }
    }

    /// <summary>
    /// Dispatches the scheduled runs that are due: retries whose backoff has passed, run-now and backfill
    /// runs (one transaction each, under the task's lock), oldest event first.
    /// </summary>
    public async Task DispatchScheduledAsync(CancellationToken ct)
    {
        await using var db = await factory.CreateDbContextAsync(ct);
        var now = Instant.FromDateTimeOffset(time.GetUtcNow());
        var due = await db.Runs.AsNoTracking()
            .Where(r => r.State == RunStates.Scheduled && r.NotBefore <= now)
            .OrderBy(r => r.NotBefore).ThenBy(r => r.Cron).Select(r => r.Id).ToListAsync(ct);
        foreach (var id in due)
        {
            await DispatchScheduledAsync(id, ct);
        }
    }

    /// <summary>
    /// A scheduled run is not evaluated against the dependencies: a retry re-runs an event whose dependencies
    /// were met when it first ran, and a manual or backfill run is the user's explicit request. It takes a
    /// running slot (waiting while max_running is reached) and leaves the cron pointer and the start mark alone.
    /// </summary>
    private async Task DispatchScheduledAsync(long runId, CancellationToken ct)
    {
        Run? run;
        PeriodicTask task;
        await using (var db = await factory.CreateDbContextAsync(ct))
        {
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            run = await db.Runs.FromSql($"SELECT * FROM djag.runs WHERE id = {runId} AND state = 'scheduled' FOR UPDATE SKIP LOCKED").SingleOrDefaultAsync(ct);
            if (run is null)
            {
                return;
            }

            task = await db.LockTaskAsync(run.TaskId, ct);
            if (task.MaxRunning is { } max && task.State.Running >= max)
            {
                return;
            }

            var now = Instant.FromDateTimeOffset(time.GetUtcNow());
            run.State = RunStates.Dispatched;
            run.NotBefore = null;
            run.DispatchedAt = now;
            task.State.Running++;
            task.State.LastCronStart = now;
            await db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);
        }

        LogScheduledDispatched(logger, task.Name, run.Origin, run.Cron, run.Id, run.Attempt);
        metrics.Dispatched(task, run);
        await publisher.PublishAsync(run, task, ct);
    }

    /// <summary>Publishes every run that was committed as dispatched but may not have reached NATS (a crash or NATS outage in between).</summary>
    public Task RepublishDispatchedAsync(Duration olderThan, CancellationToken ct) =>
        RepublishDispatchedAsync(null, Instant.FromDateTimeOffset(time.GetUtcNow()) - olderThan, ct);

    /// <summary>
    /// Publishes the runs still dispatched that were dispatched after <paramref name="after"/> (if given) and at or
    /// before <paramref name="upTo"/>. A run that did reach NATS is dropped by the stream as a duplicate (same message id).
    /// </summary>
    public async Task RepublishDispatchedAsync(Instant? after, Instant upTo, CancellationToken ct)
    {
        await using var db = await factory.CreateDbContextAsync(ct);
        var pending = await db.Runs.AsNoTracking()
            .Where(r => r.State == RunStates.Dispatched && r.DispatchedAt <= upTo && (after == null || r.DispatchedAt > after))
            .Join(db.PeriodicTasks.Include(t => t.Crontab), r => r.TaskId, t => t.Id, (r, t) => new { Run = r, Task = t })
            .ToListAsync(ct);
        foreach (var p in pending)
        {
            await publisher.PublishAsync(p.Run, p.Task, ct);
        }

        if (pending.Count > 0)
        {
            LogRepublished(logger, pending.Count);
        }
    }

    [LoggerMessage(EventId = BeatEventIds.Dispatched, Level = LogLevel.Information, Message = "Dispatched {Task} event {Cron} as run {RunId} ({Lateness} late)")]
    private static partial void LogDispatched(ILogger logger, string task, Instant cron, long runId, Duration lateness);

    [LoggerMessage(EventId = BeatEventIds.Waiting, Level = LogLevel.Debug, Message = "{Task} event {Cron} waits: {Reasons}")]
    private static partial void LogWaiting(ILogger logger, string task, Instant cron, string reasons);

    [LoggerMessage(EventId = BeatEventIds.RetryDispatched, Level = LogLevel.Information, Message = "Dispatched {Task} {Origin} run {RunId} of {Cron}, attempt {Attempt}")]
    private static partial void LogScheduledDispatched(ILogger logger, string task, string origin, Instant cron, long runId, int attempt);

    [LoggerMessage(EventId = BeatEventIds.Republished, Level = LogLevel.Information, Message = "Republished {Count} dispatched runs not yet reported by a worker")]
    private static partial void LogRepublished(ILogger logger, int count);
}
