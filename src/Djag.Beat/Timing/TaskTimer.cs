using NodaTime;
using Quartz;
using Quartz.Extensibility;

namespace Djag.Beat.Timing;

/// <summary>
/// The beat's only handle on the timing engine: one durable job and one <see cref="DjagTrigger"/> per
/// enabled task, keyed by the task's name in group <see cref="Group"/>.
/// </summary>
internal sealed partial class TaskTimer(
    ISchedulerFactory schedulerFactory,
    ISchedulerSignaler signaler,
    StoredTriggers storedTriggers,
    TimeProvider clock,
    ILogger<TaskTimer> logger)
{
    /// <summary>The Quartz group of every Djag job and trigger.</summary>
    public const string Group = "djag";

    public static TriggerKey TriggerKeyOf(string taskName) => new(taskName, Group);

    public static JobKey JobKeyOf(string taskName) => new(taskName, Group);

    /// <summary>Jobs stored or deleted per Quartz call: each call is one transaction holding Quartz's trigger
    /// lock, during which this beat's scheduler cannot acquire fires, so a large sync goes in slices.</summary>
    private const int SliceSize = 500;

    /// <summary>
    /// Adds the task's job and trigger, or replaces them when the schedule differs. An unchanged task keeps
    /// its trigger and so its next fire time; a moved pointer alone replaces the trigger only when it moves
    /// the next event.
    /// </summary>
    public Task ScheduleAsync(TaskTiming timing, CancellationToken cancellationToken) =>
        ApplyAsync([timing], [], cancellationToken);

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

    /// <summary>
    /// <see cref="ScheduleAsync"/> for each of <paramref name="timings"/> and <see cref="UnscheduleAsync"/> for
    /// each of <paramref name="removed"/>, in bulk: the stored triggers are read in a few queries, and only the
    /// tasks whose trigger differs are written, a slice of jobs per transaction.
    /// </summary>
    public async Task ApplyAsync(IReadOnlyCollection<TaskTiming> timings, IReadOnlyCollection<string> removed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(timings);
        ArgumentNullException.ThrowIfNull(removed);
        var normalized = Unique(timings.Select(Normalize).ToList(), nameof(timings));
        var scheduler = await schedulerFactory.GetScheduler(cancellationToken);
        var existing = new List<JobKey>();
        foreach (var slice in removed.Chunk(SliceSize))
        {
            existing.AddRange((await scheduler.GetJobDetails(slice.Select(JobKeyOf).ToList(), cancellationToken)).Select(j => j.Key));
        }

        await DeleteAsync(scheduler, existing, cancellationToken);
        foreach (var key in existing)
        {
            LogTaskUnscheduled(logger, key.Name);
        }

        await ReconcileAsync(scheduler, normalized, cancellationToken);
    }

    /// <summary>Schedules or replaces what differs for each enabled task and removes the jobs of every other task.</summary>
    public async Task SyncAsync(IReadOnlyCollection<TaskTiming> enabled, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(enabled);
        var timings = Unique(enabled.Select(Normalize).ToList(), nameof(enabled));
        var scheduler = await schedulerFactory.GetScheduler(cancellationToken);
        var wanted = timings.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var stale = (await scheduler.GetJobKeys(GroupMatcher<JobKey>.GroupEquals(Group), cancellationToken))
            .Where(k => !wanted.Contains(k.Name))
            .ToList();
        await DeleteAsync(scheduler, stale, cancellationToken);
        foreach (var key in stale)
        {
            LogTaskUnscheduled(logger, key.Name);
        }

        await ReconcileAsync(scheduler, timings, cancellationToken);
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

    /// <summary>
    /// Stores a job and trigger for every timing whose stored trigger does not stand; a task with no event left
    /// loses its job. A slice at a time: one read of the slice's stored triggers, then a transaction for what
    /// differs, so neither the triggers read nor a held lock grow with the number of tasks. Of the slice's new
    /// tasks, Quartz stores the first and the others are copies of its rows (<see cref="StoredTriggers.CopyAsync"/>).
    /// </summary>
    private async Task ReconcileAsync(IScheduler scheduler, IReadOnlyList<TaskTiming> timings, CancellationToken cancellationToken)
    {
        foreach (var slice in timings.Chunk(SliceSize))
        {
            var stored = await storedTriggers.ReadAsync(slice.Select(t => t.Name).ToList(), cancellationToken);
            var ended = new List<JobKey>();
            var replacing = new List<DjagTrigger>();
            var fresh = new List<DjagTrigger>();
            foreach (var timing in slice)
            {
                if (timing.Schedule.NextAfter(timing.StartAfter) is null)
                {
                    // Quartz refuses a trigger that never fires; a task with no event left has nothing to time.
                    ended.Add(JobKeyOf(timing.Name));
                    LogTaskHasNoFutureEvent(logger, timing.Name, timing.Schedule.ToString(), timing.StartAfter);
                    continue;
                }

                var existing = stored.GetValueOrDefault(timing.Name);
                if (existing is not null && Keeps(existing, timing))
                {
                    LogTaskUnchanged(logger, timing.Name);
                    continue;
                }

                var trigger = BuildTrigger(timing, clock);

                // Quartz keeps a replaced trigger's previous fire time; given here, it need not read the trigger again.
                trigger.PreviousFireTimeUtc = existing?.PreviousFireTimeUtc;
                (existing is null ? fresh : replacing).Add(trigger);
            }

            if (ended.Count > 0)
            {
                await scheduler.DeleteJobs(ended, cancellationToken);
            }

            await StoreAsync(scheduler, [.. replacing, .. fresh.Take(1)], cancellationToken);
            if (fresh.Count > 1)
            {
                var copies = fresh.Skip(1).ToList();
                var copied = await storedTriggers.CopyAsync(fresh[0], copies, cancellationToken);
                if (copied.Count > 0)
                {
                    // Quartz signals its scheduler thread when it stores a trigger; the copies were stored around it.
                    await signaler.SignalSchedulingChange(copied.Min(t => t.NextFireTimeUtc), cancellationToken);
                }

                await StoreAsync(scheduler, copies.Except(copied).ToList(), cancellationToken);
            }

            foreach (var trigger in replacing.Concat(fresh))
            {
                if (trigger.NextFireTimeUtc is { } next)
                {
                    LogTaskScheduled(logger, trigger.Key.Name, trigger.Schedule.ToString(), trigger.StartAfter, Instant.FromDateTimeOffset(next));
                }
            }
        }
    }

    /// <summary>Stores each trigger with its job through Quartz, replacing what is stored under their keys, in one transaction.</summary>
    private static async Task StoreAsync(IScheduler scheduler, List<DjagTrigger> triggers, CancellationToken cancellationToken)
    {
        if (triggers.Count == 0)
        {
            return;
        }

        var jobs = triggers.ToDictionary(
            t => JobBuilder.Create<DueTaskJob>()
                .WithIdentity(t.JobKey)
                .WithDescription("Djag periodic task")
                .StoreDurably()
                .RequestRecovery() // a beat that dies inside a fire leaves it to another beat (see DueTaskJob)
                .Build(),
            t => (IReadOnlyCollection<ITrigger>)[t]);
        await scheduler.ScheduleJobs(jobs, ScheduleJobOptions.Replacing, cancellationToken);
    }

    /// <summary>Deletes the jobs (and so their triggers), a slice per transaction.</summary>
    private static async Task DeleteAsync(IScheduler scheduler, IReadOnlyList<JobKey> keys, CancellationToken cancellationToken)
    {
        foreach (var slice in keys.Chunk(SliceSize))
        {
            await scheduler.DeleteJobs(slice, cancellationToken);
        }
    }

    /// <summary>
    /// The stored trigger stands when the schedule is the same and either the pointer is the same or the new
    /// pointer leads to the event the trigger is already waiting for (the usual case after a dispatch moved
    /// the pointer to the event just fired).
    /// </summary>
    private static bool Keeps(StoredTrigger stored, TaskTiming timing)
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
        return stored.NextFireTime is { } storedNext && storedNext == next;
    }

    /// <summary>The timings as given; refused when a task appears twice.</summary>
    private static List<TaskTiming> Unique(List<TaskTiming> timings, string parameter)
    {
        var duplicate = timings.GroupBy(t => t.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        return duplicate is null ? timings : throw new ArgumentException($"task '{duplicate.Key}' appears {duplicate.Count()} times", parameter);
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
