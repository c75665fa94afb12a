using System.Globalization;
using NodaTime;

namespace Djag.Scheduling;

/// <summary>Why an event was not run, in the words the beat records and the simulator prints.</summary>
public static class MisfireReasons
{
    /// <summary>A skipped event: later than grace (skip), or cut from a backlog by max_catchup (run-all).</summary>
    public static string Skipped(TaskDefinition task, Instant cron, Instant now)
    {
        ArgumentNullException.ThrowIfNull(task);
        return task.Misfire == MisfirePolicy.RunAll
            ? $"beyond max_catchup {task.MaxCatchup}"
            : $"late by {Seconds(now - cron)} s, grace {Seconds(task.GracePeriod)} s";
    }

    /// <summary>A coalesced event: the newest late event ran for it.</summary>
    public const string Coalesced = "coalesced into a later late event";

    private static string Seconds(Duration d) => d.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
}
