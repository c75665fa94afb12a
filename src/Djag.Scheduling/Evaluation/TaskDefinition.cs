using NodaTime;

namespace Djag.Scheduling;

/// <summary>
/// What the evaluator needs of a periodic task. <see cref="GracePeriod"/> matters for
/// <see cref="MisfirePolicy.Skip"/> and <see cref="MisfirePolicy.Coalesce"/> only.
/// <see cref="MaxCatchup"/> (beyond the original) keeps only the newest N due events of a backlog; what
/// it cuts is skipped. It applies after the misfire policy, under every policy.
/// <see cref="MaxRunning"/> null means no concurrency limit.
/// </summary>
public sealed record TaskDefinition(
    string Name,
    CronSchedule Schedule,
    Instant CronBase,
    MisfirePolicy Misfire,
    Duration GracePeriod,
    int? MaxCatchup = null,
    int? MaxRunning = null);

/// <summary>
/// The scheduler state of one task, written by the beat only.
/// </summary>
/// <remarks>
/// Marks are <c>long</c> sequence numbers the beat draws from one database sequence for every start,
/// completion and edge change it observes. They order events as the beat saw them, so dependency
/// resolution never compares the clocks of different machines; the core only compares marks.
/// </remarks>
/// <param name="CronPointer">Newest event consumed: dispatched, skipped or coalesced.</param>
/// <param name="LastCron">Newest event whose run completed (the seed's last_cron).</param>
/// <param name="Running">Runs dispatched and not yet completed.</param>
/// <param name="LastStartMark">Mark of the latest dispatch; null when the task never started.</param>
/// <param name="LastSuccessMark">Mark of the latest successful completion.</param>
/// <param name="LastCompletionMark">Mark of the latest completion, successful or not.</param>
/// <param name="LastCronStart">Beat time of the latest dispatch (the seed's last_cron_start).</param>
/// <param name="LastCronEnd">Beat time of the latest completion (the seed's last_cron_end).</param>
/// <param name="TotalRunCount">Completed runs (the seed's total_run_count).</param>
public sealed record TaskState(
    Instant? CronPointer,
    Instant? LastCron,
    int Running,
    long? LastStartMark,
    long? LastSuccessMark,
    long? LastCompletionMark,
    Instant? LastCronStart = null,
    Instant? LastCronEnd = null,
    long TotalRunCount = 0)
{
    /// <summary>A task that never ran.</summary>
    public static TaskState Empty { get; } = new(null, null, 0, null, null, null);
}

/// <summary>What the evaluator knows of a dependee; a dependee absent from the lookup is deleted or unknown.</summary>
public sealed record DependeeStatus(TaskState State, bool Enabled = true);
