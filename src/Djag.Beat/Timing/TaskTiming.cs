using Djag.Scheduling;
using NodaTime;

namespace Djag.Beat.Timing;

/// <summary>What the timing engine needs to know about one enabled periodic task.</summary>
/// <param name="Name">The periodic task's unique name; the Quartz trigger and job are keyed by it in group "djag".</param>
/// <param name="Schedule">The task's cron expression in its time zone.</param>
/// <param name="StartAfter">The task's pointer: the newest of cron base, last dispatched and last completed event.
/// The trigger's first fire time is the first event strictly after it.</param>
/// <param name="Misfire">The task's misfire policy, applied by the handler, not by Quartz.</param>
/// <param name="GracePeriod">The task's grace period, applied by the handler, not by Quartz.</param>
internal sealed record TaskTiming(string Name, CronSchedule Schedule, Instant StartAfter, MisfirePolicy Misfire, Duration GracePeriod);

/// <summary>Called when a task's trigger fires. Implemented by the beat's dispatch; the Quartz job only calls it.</summary>
internal interface IDueTaskHandler
{
    /// <param name="taskName">The periodic task's name.</param>
    /// <param name="scheduledFireTime">The cron event the trigger fired for (for a misfire: the event that was missed).</param>
    /// <param name="actualFireTime">When the trigger actually fired, by the scheduler's clock.</param>
    /// <param name="cancellationToken">Cancelled when the scheduler shuts down.</param>
    Task OnDueAsync(string taskName, Instant scheduledFireTime, Instant actualFireTime, CancellationToken cancellationToken);
}
