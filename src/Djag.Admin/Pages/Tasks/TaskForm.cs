namespace Djag.Admin.Pages.Tasks;

/// <summary>The task form's fields, grouped as the original's admin: general, schedule, arguments, execution options.</summary>
public sealed class TaskForm
{
    public long? Id { get; set; }

    // General
    public string? Name { get; set; }
    public string? Task { get; set; }
    public string? Description { get; set; }
    public bool Enabled { get; set; } = true;

    // Schedule
    public long? CrontabId { get; set; }

    /// <summary>UTC, as a <c>datetime-local</c> value; empty: the moment of creation (or unchanged).</summary>
    public string? CronBase { get; set; }

    public bool SkipMisfire { get; set; }
    public bool CoalesceMisfire { get; set; }
    public int? GracePeriod { get; set; }
    public int? MaxCatchup { get; set; }

    // Arguments
    public string? Args { get; set; } = "[]";
    public string? Kwargs { get; set; } = "{}";

    // Execution options
    public string? Queue { get; set; } = "default";
    public int Priority { get; set; }
    public string? Headers { get; set; } = "{}";
    public int? MaxRunning { get; set; }
    public int MaxRetries { get; set; }
    public int RetryBackoff { get; set; }
    public int? Timeout { get; set; }
}

/// <summary>One inline dependency row: the other task, and the edge's options.</summary>
public sealed class DependencyRow
{
    /// <summary>The dependee (in "Dependent on") or the depender (in "Dependent by").</summary>
    public string? Task { get; set; }

    /// <summary>The task this row held when the form was shown; a changed name replaces the old edge.</summary>
    public string? Original { get; set; }

    public bool FutureDepends { get; set; }
    public string? Condition { get; set; } = "success";
    public bool Delete { get; set; }
}
