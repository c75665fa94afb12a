using Djag.Scheduling.ScheduleFiles;

namespace Djag.Persistence.Operations;

/// <summary>
/// What a user can ask of Djag beyond editing single rows: the admin and the HTTP API serve it from the
/// database (<see cref="DatabaseOperations"/>), and the CLI talks to either that or the HTTP API through
/// this one interface, so its output is the same both ways. Refusals are <see cref="OperationException"/>s
/// (and <see cref="Schedules.ScheduleValidationException"/> for a schedule change); nothing is saved then.
/// </summary>
public interface IDjagOperations
{
    Task<Page<TaskSummary>> ListTasksAsync(TaskQuery query, CancellationToken cancellationToken = default);

    Task<TaskDetail> GetTaskAsync(string name, CancellationToken cancellationToken = default);

    Task<Page<RunView>> ListRunsAsync(RunQuery query, CancellationToken cancellationToken = default);

    Task<RunView> GetRunAsync(long id, CancellationToken cancellationToken = default);

    /// <summary>The core's explanation of what holds the task now (semantics.md section 4).</summary>
    Task<WhyView> WhyAsync(string name, CancellationToken cancellationToken = default);

    Task<DagView> GetDagAsync(CancellationToken cancellationToken = default);

    /// <summary>A manual run now, outside the cron events: it leaves the cron pointer and last_cron alone.</summary>
    Task<RunView> RunNowAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Disables the task: the beat dispatches none of its events until it is resumed.</summary>
    Task<TaskSummary> PauseAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Enables the task; the events missed while paused follow its misfire policy, as after beat downtime.</summary>
    Task<TaskSummary> ResumeAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Queues one run per cron event in [<paramref name="from"/>, <paramref name="to"/>] that has none yet.</summary>
    Task<BackfillResult> BackfillAsync(string name, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default);

    /// <summary>Queues the next attempt of a failed or lost run.</summary>
    Task<RunView> RetryAsync(long runId, CancellationToken cancellationToken = default);

    /// <summary>The stored schedule as a schedule file document; applying it back changes nothing.</summary>
    Task<ScheduleDocument> ExportAsync(CancellationToken cancellationToken = default);

    /// <summary>Makes the stored schedule match <paramref name="document"/> in one transaction (<c>djag apply</c>).</summary>
    Task<ApplyResult> ApplyAsync(ScheduleDocument document, bool prune, bool dryRun, CancellationToken cancellationToken = default);
}
