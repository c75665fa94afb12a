using Microsoft.Extensions.Options;

namespace Djag.Beat.Timing;

/// <summary>Settings of the Quartz timing engine.</summary>
internal sealed class TimingOptions
{
    /// <summary>How often a beat records in <c>qrtz_scheduler_state</c> that it is alive.</summary>
    public TimeSpan CheckinInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long past a missed check-in the other beats wait before taking over a dead beat's fires.
    /// A crashed beat is taken over after about interval + threshold (10-15 s with the defaults); a beat that
    /// stops cleanly hands over at once.</summary>
    public TimeSpan CheckinMisfireThreshold { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Fires in flight at once. A fire only waits for its task's evaluation, which is gathered into a batch with
    /// the others in flight, so this bounds the size of a batch of simultaneous fires rather than any thread use.</summary>
    public int ThreadCount { get; set; } = 200;

    /// <summary>The most PostgreSQL connections Quartz's job store holds, in a pool of its own (application name
    /// <c>djag-beat timing</c>). When a burst of fires completes at once, Quartz's bookkeeping then queues in the beat
    /// rather than crowding PostgreSQL's CPU, and it never takes the connections of the evaluations and reports the
    /// fires wait for. Quartz serializes its acquiring and firing on a row lock, so a few connections are enough.</summary>
    public int ConnectionPoolSize { get; set; } = 10;

    /// <summary>How late a fire may be before Quartz treats it as misfired; a misfired Djag trigger fires
    /// once at once, so this only decides when Quartz stops waiting for a thread and fires "now".</summary>
    public TimeSpan MisfireThreshold { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Triggers acquired per round, so many tasks due on the same second fire in one round; at most
    /// <see cref="ThreadCount"/> (Quartz refuses to hold more acquired triggers than it has threads).</summary>
    public int MaxBatchSize { get; set; } = 100;

    /// <summary>How far ahead of its fire time a trigger may be acquired into a batch.</summary>
    public TimeSpan BatchFireAheadWindow { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Longest a beat with nothing due sleeps before polling the store again; a change made by
    /// another beat is seen within it.</summary>
    public TimeSpan IdleWaitTime { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>This beat's id in the cluster; null generates one (Quartz's "AUTO").</summary>
    public string? InstanceId { get; set; }

    public void EnsureValid()
    {
        var result = new TimingOptionsValidator().Validate(null, this);
        if (result.Failed)
        {
            throw new OptionsValidationException(nameof(TimingOptions), typeof(TimingOptions), result.Failures);
        }
    }
}

internal sealed class TimingOptionsValidator : IValidateOptions<TimingOptions>
{
    public ValidateOptionsResult Validate(string? name, TimingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        Between(failures, nameof(TimingOptions.CheckinInterval), options.CheckinInterval, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(5));
        Between(failures, nameof(TimingOptions.CheckinMisfireThreshold), options.CheckinMisfireThreshold, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(5));
        Between(failures, nameof(TimingOptions.MisfireThreshold), options.MisfireThreshold, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1));
        Between(failures, nameof(TimingOptions.BatchFireAheadWindow), options.BatchFireAheadWindow, TimeSpan.Zero, TimeSpan.FromSeconds(10));
        Between(failures, nameof(TimingOptions.IdleWaitTime), options.IdleWaitTime, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(5));
        if (options.MisfireThreshold.Ticks % TimeSpan.TicksPerMillisecond != 0)
        {
            failures.Add($"{nameof(TimingOptions.MisfireThreshold)} must be a whole number of milliseconds, not {options.MisfireThreshold}");
        }

        if (options.ThreadCount is < 1 or > 200)
        {
            failures.Add($"{nameof(TimingOptions.ThreadCount)} must be between 1 and 200, not {options.ThreadCount}");
        }

        if (options.ConnectionPoolSize is < 2 or > 100)
        {
            failures.Add($"{nameof(TimingOptions.ConnectionPoolSize)} must be between 2 and 100, not {options.ConnectionPoolSize}");
        }

        if (options.MaxBatchSize is < 1 or > 1000)
        {
            failures.Add($"{nameof(TimingOptions.MaxBatchSize)} must be between 1 and 1000, not {options.MaxBatchSize}");
        }

        if (options.MaxBatchSize > options.ThreadCount)
        {
            failures.Add($"{nameof(TimingOptions.MaxBatchSize)} ({options.MaxBatchSize}) must not exceed {nameof(TimingOptions.ThreadCount)} ({options.ThreadCount})");
        }

        if (options.InstanceId is { } id && (string.IsNullOrWhiteSpace(id) || id.Length > 200))
        {
            failures.Add($"{nameof(TimingOptions.InstanceId)} must be null (generated) or 1-200 characters, not '{id}'");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Between(List<string> failures, string name, TimeSpan value, TimeSpan min, TimeSpan max)
    {
        if (value < min || value > max)
        {
            failures.Add($"{name} must be between {min} and {max}, not {value}");
        }
    }
}
