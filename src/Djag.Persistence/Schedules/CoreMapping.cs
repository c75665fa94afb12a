using Djag.Scheduling;
using NodaTime;

namespace Djag.Persistence.Schedules;

/// <summary>Rows to the core's plain data and back: the one place the two shapes meet.</summary>
public static class CoreMapping
{
    public static CronSchedule ToSchedule(this Crontab crontab) =>
        CronSchedule.Create(CrontabSpec.From(crontab).Fields, crontab.Timezone);

    /// <summary>The crontab's schedule, or null when it does not parse (a row edited behind the write path's back).</summary>
    public static CronSchedule? TryToSchedule(this Crontab crontab) =>
        CronSchedule.TryCreate(CrontabSpec.From(crontab).Fields, crontab.Timezone, out var schedule, out _) ? schedule : null;

    public static MisfirePolicy Misfire(this PeriodicTask task) =>
        task.SkipMisfire ? MisfirePolicy.Skip : task.CoalesceMisfire ? MisfirePolicy.Coalesce : MisfirePolicy.RunAll;

    /// <summary>The task as the core sees it; its crontab must be loaded.</summary>
    public static TaskDefinition ToDefinition(this PeriodicTask task) => task.ToDefinition(task.Crontab.ToSchedule());

    /// <summary>The task as the core sees it, on <paramref name="schedule"/> (its crontab's, parsed once for many tasks).</summary>
    public static TaskDefinition ToDefinition(this PeriodicTask task, CronSchedule schedule) =>
        new(task.Name, schedule, task.CronBase, task.Misfire(),
            Duration.FromSeconds(task.GracePeriod ?? 0), task.MaxCatchup, task.MaxRunning);

    public static TaskState ToCore(this TaskSchedulerState s) =>
        new(s.CronPointer, s.LastCron, s.Running, s.LastStartMark, s.LastSuccessMark, s.LastCompletionMark,
            s.LastCronStart, s.LastCronEnd, s.TotalRunCount);

    public static void Assign(this TaskSchedulerState s, TaskState c)
    {
        s.CronPointer = c.CronPointer;
        s.LastCron = c.LastCron;
        s.Running = c.Running;
        s.LastStartMark = c.LastStartMark;
        s.LastSuccessMark = c.LastSuccessMark;
        s.LastCompletionMark = c.LastCompletionMark;
        s.LastCronStart = c.LastCronStart;
        s.LastCronEnd = c.LastCronEnd;
        s.TotalRunCount = c.TotalRunCount;
    }
}
