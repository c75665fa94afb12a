using Djag.Scheduling;
using NodaTime;

namespace Djag.Persistence.Schedules;

/// <summary>
/// One change to the schedule, validated as a whole and saved in one transaction by
/// <see cref="ScheduleService"/>: every front end (admin, API, CLI) writes through it.
/// </summary>
public sealed record ScheduleChange
{
    /// <summary>Existing crontabs edited in place (every task on them is rescheduled).</summary>
    public IReadOnlyList<CrontabEdit> Crontabs { get; init; } = [];

    /// <summary>Tasks created or updated (by <see cref="TaskEdit.Id"/> if set, else by name).</summary>
    public IReadOnlyList<TaskEdit> Tasks { get; init; } = [];

    /// <summary>Names of tasks to delete; their own edges go with them.</summary>
    public IReadOnlyList<string> DeletedTasks { get; init; } = [];

    /// <summary>Edges created or updated, keyed by (depender, dependee).</summary>
    public IReadOnlyList<DependencyEdit> Dependencies { get; init; } = [];

    public IReadOnlyList<DependencyKey> DeletedDependencies { get; init; } = [];
}

/// <summary>A cron schedule by value; a task on it shares an identical crontab row or gets a new one.</summary>
public sealed record CrontabSpec(CronFields Fields, string Timezone)
{
    public static CrontabSpec From(Crontab c) =>
        new(new CronFields(c.Second, c.Minute, c.Hour, c.DayOfMonth, c.MonthOfYear, c.DayOfWeek), c.Timezone);
}

public sealed record CrontabEdit(long Id, CrontabSpec Spec);

public sealed record TaskEdit
{
    /// <summary>The row to update; allows a rename. Without it the task is matched by <see cref="Name"/>.</summary>
    public long? Id { get; init; }

    public required string Name { get; init; }
    public required string Task { get; init; }
    public required CrontabSpec Crontab { get; init; }

    /// <summary>Default: the moment of creation; an update without it keeps the stored one.</summary>
    public Instant? CronBase { get; init; }

    public bool SkipMisfire { get; init; }
    public bool CoalesceMisfire { get; init; }
    public int? GracePeriod { get; init; }
    public int? MaxCatchup { get; init; }
    public int? MaxRunning { get; init; }
    public int MaxRetries { get; init; }
    public int RetryBackoff { get; init; }
    public int? Timeout { get; init; }
    public bool Enabled { get; init; } = true;

    /// <summary>JSON text of an array.</summary>
    public string Args { get; init; } = "[]";

    /// <summary>JSON text of an object.</summary>
    public string Kwargs { get; init; } = "{}";

    /// <summary>JSON text of an object.</summary>
    public string Headers { get; init; } = "{}";

    public string Queue { get; init; } = "default";
    public int Priority { get; init; }
    public string Description { get; init; } = "";

    /// <summary>An edit that leaves <paramref name="row"/> as it is (its crontab loaded); change a copy with <c>with</c>.</summary>
    public static TaskEdit From(PeriodicTask row)
    {
        ArgumentNullException.ThrowIfNull(row);
        return new()
        {
            Id = row.Id,
            Name = row.Name,
            Task = row.Task,
            Crontab = CrontabSpec.From(row.Crontab),
            CronBase = row.CronBase,
            SkipMisfire = row.SkipMisfire,
            CoalesceMisfire = row.CoalesceMisfire,
            GracePeriod = row.GracePeriod,
            MaxCatchup = row.MaxCatchup,
            MaxRunning = row.MaxRunning,
            MaxRetries = row.MaxRetries,
            RetryBackoff = row.RetryBackoff,
            Timeout = row.Timeout,
            Enabled = row.Enabled,
            Args = row.Args,
            Kwargs = row.Kwargs,
            Headers = row.Headers,
            Queue = row.Queue,
            Priority = row.Priority,
            Description = row.Description,
        };
    }
}

public sealed record DependencyKey(string Depender, string Dependee)
{
    public override string ToString() => $"{Depender}->{Dependee}";
}

public sealed record DependencyEdit(
    string Depender,
    string Dependee,
    bool FutureDepends = false,
    DependencyCondition Condition = DependencyCondition.Success)
{
    public DependencyKey Key => new(Depender, Dependee);
}

/// <summary>What a change did; a change that matched the stored schedule reports zeros and writes nothing.</summary>
public sealed record ScheduleChangeResult(int Crontabs, int TasksSaved, int TasksDeleted, int DependenciesSaved, int DependenciesDeleted)
{
    public bool Changed => Crontabs + TasksSaved + TasksDeleted + DependenciesSaved + DependenciesDeleted > 0;
}

/// <summary>Bad input: every problem found, each naming its field and value. Nothing was saved.</summary>
public sealed class ScheduleValidationException(IReadOnlyList<FieldError> errors)
    : Exception("invalid schedule change: " + string.Join("; ", errors.Select(e => $"{e.Field}: {e.Message}")))
{
    public IReadOnlyList<FieldError> Errors { get; } = errors;
}
