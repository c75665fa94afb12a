using Djag.Scheduling;
using NodaTime;
using Quartz;
using Quartz.Impl.Triggers;

namespace Djag.Beat.Timing;

/// <summary>
/// A Quartz trigger whose fire times are the cron events of a Djag task: the occurrences of
/// <see cref="CronSchedule"/> strictly after <see cref="StartAfter"/> (the task's pointer). Every cron
/// computation goes through the core; this class only adapts it to Quartz's trigger protocol.
/// </summary>
/// <remarks>
/// Misfires never drop or coalesce events here: the Djag handler walks every event after the task's
/// pointer itself and applies skip / coalesce / catch-up. So a misfired trigger fires once, now, and the
/// cron sequence continues after that fire. Misfire policy and grace period travel with the trigger only
/// so the stored row describes the task; Quartz does not act on them.
/// </remarks>
internal sealed class DjagTrigger : TriggerBase
{
    /// <summary>Quartz's "instruction not set" code, the only one this trigger accepts: its misfire behaviour is fixed.</summary>
    private const int SmartPolicy = 0;

    private readonly TimeProvider _clock;
    private DateTimeOffset? _nextFireTimeUtc;
    private DateTimeOffset? _previousFireTimeUtc;

    public DjagTrigger(CronSchedule schedule, Instant startAfter, MisfirePolicy misfire, Duration gracePeriod, TimeProvider clock)
        : base(clock)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentNullException.ThrowIfNull(clock);
        if (gracePeriod < Duration.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(gracePeriod), gracePeriod, "the grace period must not be negative");
        }

        Schedule = schedule;
        StartAfter = startAfter;
        Misfire = misfire;
        GracePeriod = gracePeriod;
        _clock = clock;
    }

    public CronSchedule Schedule { get; }

    /// <summary>The 6-field expression, seconds first (<see cref="CronFields.Expression"/>).</summary>
    public string CronExpression => Schedule.Fields.Expression;

    public string TimeZoneId => Schedule.TimeZoneId;

    /// <summary>The first fire time is the first cron event strictly after this instant.</summary>
    public Instant StartAfter { get; }

    public MisfirePolicy Misfire { get; }

    public Duration GracePeriod { get; }

    public override DateTimeOffset? NextFireTimeUtc
    {
        get => _nextFireTimeUtc;
        set => _nextFireTimeUtc = value;
    }

    public override DateTimeOffset? PreviousFireTimeUtc
    {
        get => _previousFireTimeUtc;
        set => _previousFireTimeUtc = value;
    }

    /// <summary>A cron sequence never ends: there is no final fire time.</summary>
    public override DateTimeOffset? FinalFireTimeUtc => null;

    public override bool MayFireAgain => NextFireTimeUtc.HasValue;

    // The core's instants are exact; rounding the start down to the second would let an event at the
    // pointer's own second count as "after" it.
    protected override bool HasMillisecondPrecision => true;

    public override DateTimeOffset? GetFireTimeAfter(DateTimeOffset? afterTime)
    {
        var after = afterTime is { } t ? Instant.FromDateTimeOffset(t) : Instant.FromDateTimeOffset(_clock.GetUtcNow());
        return Schedule.NextAfter(after)?.ToDateTimeOffset();
    }

    /// <summary>The first event after the pointer, even when it is in the past: a past first fire time is a
    /// misfire, which fires once now (unlike Quartz's cron trigger, which would silently skip to the future).</summary>
    public override DateTimeOffset? ComputeFirstFireTimeUtc(ICalendar? calendar)
    {
        NextFireTimeUtc = SkipExcluded(Schedule.NextAfter(StartAfter)?.ToDateTimeOffset(), calendar);
        return NextFireTimeUtc;
    }

    public override void Triggered(ICalendar? calendar)
    {
        PreviousFireTimeUtc = NextFireTimeUtc;
        NextFireTimeUtc = SkipExcluded(GetFireTimeAfter(NextFireTimeUtc), calendar);
    }

    /// <summary>
    /// Fires once, now, whatever the instruction code: Quartz's threshold must not decide which Djag events
    /// are lost. After that fire, <see cref="Triggered"/> continues the cron sequence after now.
    /// </summary>
    public override void UpdateAfterMisfire(ICalendar? calendar) => NextFireTimeUtc = _clock.GetUtcNow();

    public override void UpdateWithNewCalendar(ICalendar calendar, TimeSpan misfireThreshold)
    {
        var after = PreviousFireTimeUtc ?? StartAfter.ToDateTimeOffset();
        NextFireTimeUtc = SkipExcluded(GetFireTimeAfter(after), calendar);
    }

    public override IScheduleBuilder GetScheduleBuilder() => new DjagScheduleBuilder(Schedule, StartAfter, Misfire, GracePeriod, _clock);

    public override void Validate()
    {
        base.Validate();
        if (MisfireInstructionCode != SmartPolicy)
        {
            throw new SchedulerException($"a Djag trigger fires once now on misfire; misfire instruction {MisfireInstructionCode} is not supported");
        }
    }

    protected override bool ValidateMisfireInstruction(int misfireInstruction) => misfireInstruction == SmartPolicy;

    private DateTimeOffset? SkipExcluded(DateTimeOffset? candidate, ICalendar? calendar)
    {
        // Djag sets no Quartz calendars; honouring one keeps the trigger correct if someone attaches one.
        while (candidate is { } time && calendar is not null && !calendar.IsTimeIncluded(time))
        {
            candidate = GetFireTimeAfter(time);
        }

        return candidate;
    }
}
