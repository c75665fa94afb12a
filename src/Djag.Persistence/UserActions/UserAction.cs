using NodaTime;

namespace Djag.Persistence.UserActions;

/// <summary>A control signal: internal ones are written on every schedule change for the beat to consume.</summary>
public sealed class UserAction
{
    public long Id { get; set; }
    public required string Action { get; set; }

    /// <summary>A JSON value.</summary>
    public string Payload { get; set; } = "{}";

    public Instant CreateDt { get; set; }
}

/// <summary>A consumed user action, copied here in the same transaction that deletes it.</summary>
public sealed class UserActionAudit
{
    public long Id { get; set; }
    public required string Action { get; set; }
    public string Payload { get; set; } = "{}";
    public Instant CreateDt { get; set; }
    public Instant DeleteDt { get; set; }
}

/// <summary>User action codes.</summary>
public static class UserActionCodes
{
    public const string TaskChanged = "TASK_CHANGED";
    public const string ScheduleChanged = "SCHEDULE_CHANGED";
    public const string DependencyChanged = "DEPENDENCY_CHANGED";
    public const string Unclassified = "UNCLASSIFIED";

    /// <summary>Codes that only Djag itself writes.</summary>
    public static readonly IReadOnlySet<string> Internal = new HashSet<string>(StringComparer.Ordinal)
    {
        TaskChanged, ScheduleChanged, DependencyChanged,
    };
}
