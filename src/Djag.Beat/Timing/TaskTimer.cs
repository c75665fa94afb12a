using NodaTime;
using Quartz;

namespace Djag.Beat.Timing;

/// <summary>
/// The beat's only handle on the timing engine: one durable job and one <see cref="DjagTrigger"/> per
/// enabled task, keyed by the task's name in group <see cref="Group"/>.
/// </summary>
internal sealed partial class TaskTimer(ISchedulerFactory schedulerFactory, TimeProvider clock, ILogger<TaskTimer> logger)
{
    /// <summary>The Quartz group of every Djag job and trigger.</summary>
    public const string Group = "djag";

    public static TriggerKey TriggerKeyOf(string taskName) => new(taskName, Group);

    public static JobKey JobKeyOf(string taskName) => new(taskName, Group);

    /// <summary>
    /// Adds the task's job and trigger, or replaces them when the schedule differs. An unchanged task keeps
    /// its trigger and so its next fire time; a moved pointer alone replaces the trigger only when it moves
    /// the next event.
    /// </summary>
    public async Task ScheduleAsync(TaskTiming timing, CancellationToken cancellationToken)
    {
        var normalized = Normalize(timing);
        var scheduler = await schedulerFactory.GetScheduler(cancellationToken);
        await ScheduleAsync(scheduler, normalized, cancellationToken);
    }

    /// <summary>Removes the task's job and trigger (a disabled or deleted task); nothing happens when there are none.</summary>
    public async Task UnscheduleAsync(string name, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var scheduler = await schedulerFactory.GetScheduler(cancellationToken);
        if (await scheduler.DeleteJob(JobKeyOf(name), cancellationToken))
        {
            LogTaskUnscheduled(logger, name);
        }
    }

    /// <summary>Schedules or replaces what differs for each enabled task and removes the jobs of every other task.</summary>
    public async Task SyncAsync(IReadOnlyCollection<TaskTiming> enabled, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(enabled);
        var timings = enabled.Select(Normalize).ToList();
        var duplicate = timings.GroupBy(t => t.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException($"task '{duplicate.Key}' appears {duplicate.Count()} times", nameof(enabled));
        }

        var scheduler = await schedulerFactory.GetScheduler(cancellationToken);
        var wanted = timings.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var stale = (await scheduler.GetJobKeys(GroupMatcher<JobKey>.GroupEquals(Group), cancellationToken))
            .Where(k => !wanted.Contains(k.Name))
            .ToList();
        if (stale.Count > 0)
        {
            await scheduler.DeleteJobs(stale, cancellationToken);
            foreach (var key in stale)
            {
                LogTaskUnscheduled(logger, key.Name);
            }
        }

        foreach (var timing in timings)
        {
            await ScheduleAsync(scheduler, timing, cancellationToken);
        }

        LogTasksSynced(logger, timings.Count, stale.Count);
    }

    /// <summary>The task's next fire time as stored, or null when it has no trigger.</summary>
    public async Task<Instant?> NextFireTimeAsync(string name, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var scheduler = await schedulerFactory.GetScheduler(cancellationToken);
        var trigger = await scheduler.GetTrigger(TriggerKeyOf(name), cancellationToken);
        return trigger?.NextFireTimeUtc is { } next ? Instant.FromDateTimeOffset(next) : null;
    }

    /// <summary>The trigger for <paramref name="timing"/>, not yet stored.</summary>
    internal static DjagTrigger BuildTrigger(TaskTiming timing, TimeProvider clock) =>
        (DjagTrigger)TriggerBuilder.Create(clock)
            .WithIdentity(TriggerKeyOf(timing.Name))
            .ForJob(JobKeyOf(timing.Name))
            .WithDescription(timing.Schedule.ToString())
            .StartAt(timing.StartAfter.ToDateTimeOffset())
            .WithSchedule(new DjagScheduleBuilder(timing.Schedule, timing.StartAfter, timing.Misfire, timing.GracePeriod, clock))
            .Build();

    private async Task ScheduleAsync(IScheduler scheduler, TaskTiming timing, CancellationToken cancellationToken)
    {
        if (timing.Schedule.NextAfter(timing.StartAfter) is null)
        {
            // Quartz refuses a trigger that never fires; a task with no event left has nothing to time.
            await scheduler.DeleteJob(JobKeyOf(timing.Name), cancellationToken);
            LogTaskHasNoFutureEvent(logger, timing.Name, timing.Schedule.ToString(), timing.StartAfter);
            return;
        }

        var stored = await scheduler.GetTrigger(TriggerKeyOf(timing.Name), cancellationToken);
        if (stored is DjagTrigger existing && Keeps(existing, timing))
        {
            LogTaskUnchanged(logger, timing.Name);
            return;
        }

        var job = JobBuilder.Create<DueTaskJob>()
            .WithIdentity(JobKeyOf(timing.Name))
            .WithDescription("Djag periodic task")
            .StoreDurably()
            .Build();
        var trigger = BuildTrigger(timing, clock);
        await scheduler.ScheduleJob(job, [trigger], ScheduleJobOptions.Replacing, cancellationToken);
        if (trigger.NextFireTimeUtc is { } next)
        {
            LogTaskScheduled(logger, timing.Name, timing.Schedule.ToString(), timing.StartAfter, Instant.FromDateTimeOffset(next));
        }
    }

    /// <summary>
    /// The stored trigger stands when the schedule is the same and either the pointer is the same or the new
    /// pointer leads to the event the trigger is already waiting for (the usual case after a dispatch moved
    /// the pointer to the event just fired).
    /// </summary>
    private static bool Keeps(DjagTrigger stored, TaskTiming timing)
    {
        if (!stored.HasSameScheduleAs(timing))
        {
            return false;
        }

        if (stored.StartAfter == timing.StartAfter)
        {
            return true;
        }

        var next = timing.Schedule.NextAfter(timing.StartAfter);
        return stored.NextFireTimeUtc is { } storedNext && next is { } n && Instant.FromDateTimeOffset(storedNext) == n;
    }

    /// <summary>The stored form: start-after in whole ticks and grace in whole seconds, so a reloaded trigger compares equal.</summary>
    private static TaskTiming Normalize(TaskTiming timing)
    {
        ArgumentNullException.ThrowIfNull(timing);
        ArgumentException.ThrowIfNullOrEmpty(timing.Name, nameof(timing));
        ArgumentNullException.ThrowIfNull(timing.Schedule, nameof(timing));
        if (timing.GracePeriod < Duration.Zero || timing.GracePeriod.SubsecondNanoseconds != 0)
        {
            throw new ArgumentException($"task '{timing.Name}': the grace period must be a non-negative whole number of seconds, not {timing.GracePeriod}", nameof(timing));
        }

        return timing with { StartAfter = Instant.FromUnixTimeTicks(timing.StartAfter.ToUnixTimeTicks()) };
    }
}
