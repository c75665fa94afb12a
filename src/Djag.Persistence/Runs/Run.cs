using NodaTime;

namespace Djag.Persistence.Runs;

/// <summary>
/// One dispatch of a task's cron event (or its record as skipped or coalesced). The database allows
/// exactly one row per (task, cron instant, attempt), so no restart or failover runs an event twice.
/// </summary>
public sealed class Run
{
    public long Id { get; set; }
    public long TaskId { get; set; }

    /// <summary>The cron event's instant (for a manual run, the moment it was requested).</summary>
    public Instant Cron { get; set; }

    public int Attempt { get; set; } = 1;
    public string Origin { get; set; } = RunOrigins.Cron;
    public string State { get; set; } = RunStates.Dispatched;
    public string? Worker { get; set; }
    public Instant? DispatchedAt { get; set; }

    /// <summary>For a <c>scheduled</c> retry: when it is due.</summary>
    public Instant? NotBefore { get; set; }
    public Instant? StartedAt { get; set; }
    public Instant? FinishedAt { get; set; }

    /// <summary>Set exactly when <see cref="State"/> is <c>finished</c>.</summary>
    public string? Outcome { get; set; }

    public string? Error { get; set; }
    public string? OutputTail { get; set; }

    /// <summary>Why an event was skipped or coalesced.</summary>
    public string? Reason { get; set; }
}

public static class RunStates
{
    /// <summary>A retry waiting for its backoff to pass.</summary>
    public const string Scheduled = "scheduled";

    public const string Dispatched = "dispatched";
    public const string Running = "running";
    public const string Finished = "finished";
    public const string Skipped = "skipped";
    public const string Coalesced = "coalesced";

    public static readonly IReadOnlyList<string> All = [Scheduled, Dispatched, Running, Finished, Skipped, Coalesced];
}

public static class RunOutcomes
{
    public const string Success = "success";
    public const string Failure = "failure";

    /// <summary>The worker stopped heartbeating past its lease.</summary>
    public const string Lost = "lost";

    public static readonly IReadOnlyList<string> All = [Success, Failure, Lost];
}

public static class RunOrigins
{
    public const string Cron = "cron";
    public const string Manual = "manual";
    public const string Backfill = "backfill";
    public const string Retry = "retry";

    public static readonly IReadOnlyList<string> All = [Cron, Manual, Backfill, Retry];
}
