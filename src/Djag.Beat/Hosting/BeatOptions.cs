using Microsoft.Extensions.Options;

namespace Djag.Beat.Hosting;

/// <summary>The beat's settings (semantics.md section 6), in seconds as in the original.</summary>
internal sealed class BeatOptions
{
    public const string Section = "Beat";

    /// <summary>Default time zone of new crontabs.</summary>
    public string Timezone { get; set; } = "UTC";

    /// <summary>Longest the beat sleeps without re-checking its state.</summary>
    public int DefaultInterval { get; set; } = 60;

    /// <summary>Fallback period for picking up schedule changes when a change notification was missed.</summary>
    public int ScheduleCheckInterval { get; set; } = 300;

    /// <summary>Hint shown for a running task's expected end.</summary>
    public int TaskEstimatedRunTime { get; set; } = 60;

    /// <summary>Period of a full reconciliation between worker reports and the database.</summary>
    public int ResilientSyncInterval { get; set; } = 600;

    /// <summary>Seconds a started run may go without its worker's heartbeat before it is declared lost.</summary>
    public int RunLease { get; set; } = 30;
}

internal sealed class BeatOptionsValidator : IValidateOptions<BeatOptions>
{
    public ValidateOptionsResult Validate(string? name, BeatOptions o)
    {
        var failures = new List<string>();
        if (NodaTime.DateTimeZoneProviders.Tzdb.GetZoneOrNull(o.Timezone) is null)
        {
            failures.Add($"Beat:Timezone '{o.Timezone}' is not a known IANA time zone");
        }

        Positive(nameof(o.DefaultInterval), o.DefaultInterval);
        Positive(nameof(o.ScheduleCheckInterval), o.ScheduleCheckInterval);
        Positive(nameof(o.TaskEstimatedRunTime), o.TaskEstimatedRunTime);
        Positive(nameof(o.ResilientSyncInterval), o.ResilientSyncInterval);
        Positive(nameof(o.RunLease), o.RunLease);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

        void Positive(string setting, int value)
        {
            if (value <= 0)
            {
                failures.Add($"Beat:{setting} is {value}; it must be a positive number of seconds");
            }
        }
    }
}
