using Djag.Scheduling;
using Djag.Scheduling.ScheduleFiles;

namespace Djag.Persistence.Schedules;

/// <summary>
/// The change that makes the stored schedule match a schedule file (<c>djag apply</c>). Applying it twice
/// changes nothing the second time: <see cref="ScheduleService"/> skips every edit equal to what is stored.
/// </summary>
public static class ScheduleDocumentMapping
{
    /// <param name="document">A parsed, valid schedule file.</param>
    /// <param name="storedTaskNames">Every task name in the database.</param>
    /// <param name="storedEdges">Every dependency in the database.</param>
    /// <param name="prune">Delete the stored tasks and dependencies the file does not list.</param>
    public static ScheduleChange ToChange(
        ScheduleDocument document,
        IReadOnlyCollection<string> storedTaskNames,
        IReadOnlyCollection<DependencyKey> storedEdges,
        bool prune)
    {
        ArgumentNullException.ThrowIfNull(document);
        ArgumentNullException.ThrowIfNull(storedTaskNames);
        ArgumentNullException.ThrowIfNull(storedEdges);

        var stored = storedTaskNames.ToHashSet(StringComparer.Ordinal);
        var tasks = document.Tasks
            .Select(ToEdit)
            .ToList();
        var dependencies = document.Dependencies
            .Select(d => new DependencyEdit(d.Depender, d.Dependee, d.FutureDepends, d.Condition))
            .ToList();
        if (!prune)
        {
            return new ScheduleChange { Tasks = tasks, Dependencies = dependencies };
        }

        var named = document.Tasks.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var listed = dependencies.Select(d => d.Key).ToHashSet();

        // Every edge of a pruned task is unlisted too (a file cannot name an unknown task), so it is deleted
        // with the task and the service's "a dependee cannot vanish under its dependers" rule is satisfied.
        return new ScheduleChange
        {
            Tasks = tasks,
            Dependencies = dependencies,
            DeletedDependencies = [.. storedEdges.Where(e => !listed.Contains(e)).Distinct().OrderBy(e => e.Depender, StringComparer.Ordinal).ThenBy(e => e.Dependee, StringComparer.Ordinal)],
            DeletedTasks = [.. stored.Where(n => !named.Contains(n)).Order(StringComparer.Ordinal)],
        };
    }

    /// <summary>A file entry without cron_base leaves a stored task's own, and a new task counts from its creation.</summary>
    private static TaskEdit ToEdit(TaskSpec t) => new()
    {
        Name = t.Name,
        Task = t.Task,
        Crontab = new CrontabSpec(t.Schedule.Fields, t.Schedule.TimeZoneId),
        CronBase = t.CronBase,
        SkipMisfire = t.Misfire == MisfirePolicy.Skip,
        CoalesceMisfire = t.Misfire == MisfirePolicy.Coalesce,
        GracePeriod = Seconds(t.GracePeriod),
        MaxCatchup = t.MaxCatchup,
        MaxRunning = t.MaxRunning,
        MaxRetries = t.MaxRetries,
        RetryBackoff = Seconds(t.RetryBackoff) ?? 0,
        Timeout = Seconds(t.Timeout),
        Enabled = t.Enabled,
        Args = t.Args.GetRawText(),
        Kwargs = t.Kwargs.GetRawText(),
        Headers = t.Headers.GetRawText(),
        Queue = t.Queue,
        Priority = t.Priority,
        Description = t.Description,
    };

    // Schedule files hold whole seconds up to int.MaxValue, so the conversion is exact.
    private static int? Seconds(NodaTime.Duration? duration) => duration is { } d ? checked((int)d.TotalSeconds) : null;
}
