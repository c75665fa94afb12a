using NodaTime;

namespace Djag.Persistence.Schedules;

/// <summary>A registered task scheduled on a crontab, with its misfire policy and the beat's state.</summary>
public sealed class PeriodicTask
{
    public long Id { get; set; }

    /// <summary>Unique name of this schedule entry.</summary>
    public required string Name { get; set; }

    /// <summary>The task name registered on the workers (<c>etl.extract</c>); not unique.</summary>
    public required string Task { get; set; }

    public long CrontabId { get; set; }
    public Crontab Crontab { get; set; } = null!;

    /// <summary>Initial instant for evaluating the crontab; defaults to the moment of creation.</summary>
    public Instant CronBase { get; set; }

    /// <summary>Positional arguments: a JSON array.</summary>
    public string Args { get; set; } = "[]";

    /// <summary>Keyword arguments: a JSON object.</summary>
    public string Kwargs { get; set; } = "{}";

    public string Queue { get; set; } = "default";
    public int Priority { get; set; }

    /// <summary>Message headers: a JSON object.</summary>
    public string Headers { get; set; } = "{}";

    public bool Enabled { get; set; } = true;
    public bool SkipMisfire { get; set; }
    public bool CoalesceMisfire { get; set; }

    /// <summary>Seconds after an event's instant before it counts as a misfire; required with skip or coalesce.</summary>
    public int? GracePeriod { get; set; }

    /// <summary>Bounds the catch-up backlog when neither skip nor coalesce is set.</summary>
    public int? MaxCatchup { get; set; }

    /// <summary>Most runs of this task in flight at once.</summary>
    public int? MaxRunning { get; set; }

    public int MaxRetries { get; set; }

    /// <summary>Seconds before a failed run is retried.</summary>
    public int RetryBackoff { get; set; }

    /// <summary>Seconds a run may take before the worker cancels it.</summary>
    public int? Timeout { get; set; }

    public string Description { get; set; } = "";
    public Instant DateChanged { get; set; }

    /// <summary>Scheduler state, written by the beat only.</summary>
    public TaskSchedulerState State { get; set; } = new();

    public List<TaskDependency> DependsOn { get; } = [];
    public List<TaskDependency> DependedBy { get; } = [];
}

/// <summary>
/// What the beat knows of a task's progress (semantics.md section 5). Marks are values of one
/// database sequence taken when the beat observes an event, so "after" never compares the clocks
/// of different machines.
/// </summary>
public sealed class TaskSchedulerState
{
    public int Running { get; set; }
    public Instant? LastCron { get; set; }
    public Instant? LastCronStart { get; set; }
    public Instant? LastCronEnd { get; set; }
    public long TotalRunCount { get; set; }

    /// <summary>The newest cron event the beat consumed: dispatched, skipped or coalesced.</summary>
    public Instant? CronPointer { get; set; }

    public long? LastStartMark { get; set; }
    public long? LastSuccessMark { get; set; }
    public long? LastCompletionMark { get; set; }
}
