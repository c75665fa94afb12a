using Djag.Persistence.Schedules;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;

namespace Djag.Cli.Apply;

internal enum DiffKind
{
    Added,
    Changed,
    Removed,
}

/// <summary>One task (by name) or dependency ("depender -> dependee") that an apply adds, changes or removes.</summary>
internal sealed record DiffEntry(DiffKind Kind, string Name);

/// <summary>
/// What an apply writes, read from the change tracker just before <see cref="ScheduleService"/> saves: the
/// service has loaded the stored rows and left untouched every edit equal to them, so the tracked states are
/// exactly the diff against what was stored, and a dry run reports what a real run would do.
/// </summary>
internal sealed record ScheduleDiff(IReadOnlyList<DiffEntry> Tasks, IReadOnlyList<DiffEntry> Dependencies)
{
    public static ScheduleDiff None { get; } = new([], []);

    public bool IsEmpty => Tasks.Count == 0 && Dependencies.Count == 0;

    public static ScheduleDiff Capture(ChangeTracker tracker)
    {
        var tasks = tracker.Entries<PeriodicTask>()
            .Select(e => Entry(e.State, e.Entity.Name))
            .OfType<DiffEntry>();
        var dependencies = tracker.Entries<TaskDependency>()
            .Select(e => Entry(e.State, $"{e.Entity.Depender.Name} -> {e.Entity.Dependee.Name}"))
            .OfType<DiffEntry>();
        return new ScheduleDiff(Sorted(tasks), Sorted(dependencies));
    }

    public void Print(TextWriter output)
    {
        foreach (var (what, entries) in new[] { ("task", Tasks), ("dependency", Dependencies) })
        {
            foreach (var entry in entries)
            {
                output.WriteLine($"{Verb(entry.Kind),-7} {what} {entry.Name}");
            }
        }

        output.WriteLine($"tasks: {Counts(Tasks)}; dependencies: {Counts(Dependencies)}");
    }

    private static DiffEntry? Entry(EntityState state, string name) => state switch
    {
        EntityState.Added => new DiffEntry(DiffKind.Added, name),
        EntityState.Modified => new DiffEntry(DiffKind.Changed, name),
        EntityState.Deleted => new DiffEntry(DiffKind.Removed, name),
        _ => null,
    };

    private static List<DiffEntry> Sorted(IEnumerable<DiffEntry> entries) =>
        [.. entries.OrderBy(e => e.Kind).ThenBy(e => e.Name, StringComparer.Ordinal)];

    private static string Verb(DiffKind kind) => kind switch
    {
        DiffKind.Added => "add",
        DiffKind.Changed => "change",
        _ => "remove",
    };

    private static string Counts(IReadOnlyList<DiffEntry> entries) =>
        $"{entries.Count(e => e.Kind == DiffKind.Added)} added, {entries.Count(e => e.Kind == DiffKind.Changed)} changed, {entries.Count(e => e.Kind == DiffKind.Removed)} removed";
}
