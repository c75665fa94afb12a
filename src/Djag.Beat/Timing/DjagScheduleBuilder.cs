using Djag.Scheduling;
using NodaTime;
using Quartz;
using Quartz.Extensibility;

namespace Djag.Beat.Timing;

/// <summary>Builds a <see cref="DjagTrigger"/>; Quartz's job store rebuilds stored triggers through it.</summary>
internal sealed class DjagScheduleBuilder(CronSchedule schedule, Instant startAfter, MisfirePolicy misfire, Duration gracePeriod, TimeProvider clock) : IScheduleBuilder
{
    public IMutableTrigger Build() => new DjagTrigger(schedule, startAfter, misfire, gracePeriod, clock);
}
