using Djag.Scheduling;

namespace Djag.Persistence.Operations;

// What the admin, the HTTP API and the CLI show. Times are UTC DateTimeOffsets so the records serialize
// as ISO 8601 without converters; each front end formats them.

/// <summary>One page of a longer list.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, int Total, int Offset, int Limit);

/// <summary>A task's state at a glance: <c>disabled</c>, <c>running</c>, <c>failed</c> (its latest run did not succeed) or <c>waiting</c>.</summary>
public static class TaskStates
{
    public const string Waiting = "waiting";
    public const string Running = "running";
    public const string Failed = "failed";
    public const string Disabled = "disabled";
}

/// <summary>A row of the task list: the original admin's columns plus next fire time and state.</summary>
public sealed record TaskSummary(
    long Id,
    string Name,
    string Task,
    string Crontab,
    string Timezone,
    bool Enabled,
    int Running,
    DateTimeOffset? LastCron,
    DateTimeOffset? LastCronStart,
    DateTimeOffset? LastCronEnd,
    long TotalRunCount,
    DateTimeOffset? NextFire,
    string State);

public sealed record DependencyView(string Depender, string Dependee, bool FutureDepends, string Condition, DateTimeOffset ChangeDt);

/// <summary>A task with everything it is configured with and its edges in both directions.</summary>
public sealed record TaskDetail(
    TaskSummary Summary,
    DateTimeOffset CronBase,
    string Args,
    string Kwargs,
    string Headers,
    string Queue,
    int Priority,
    string Misfire,
    int? GracePeriod,
    int? MaxCatchup,
    int? MaxRunning,
    int MaxRetries,
    int RetryBackoff,
    int? Timeout,
    string Description,
    DateTimeOffset DateChanged,
    IReadOnlyList<DependencyView> DependsOn,
    IReadOnlyList<DependencyView> DependedBy);

public sealed record RunView(
    long Id,
    string Task,
    DateTimeOffset Cron,
    int Attempt,
    string Origin,
    string State,
    string? Outcome,
    string? Worker,
    DateTimeOffset? NotBefore,
    DateTimeOffset? DispatchedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    double? DurationSeconds,
    string? Error,
    string? OutputTail,
    string? Reason);

/// <summary>One edge as the core resolves it now.</summary>
public sealed record EdgeView(string Dependee, bool FutureDepends, string Condition, bool Resolved, string Explanation);

/// <summary>
/// The core's answer to "why is it waiting": <see cref="Verdict"/> is <c>disabled</c>, <c>due</c> (would
/// dispatch now), <c>waiting</c> (the due <see cref="Event"/> is held by <see cref="Reasons"/> since the
/// event's instant) or <c>not_due</c> (next event at <see cref="NextEvent"/>).
/// </summary>
public sealed record WhyView(
    string Task,
    string Verdict,
    DateTimeOffset? Event,
    IReadOnlyList<string> Reasons,
    IReadOnlyList<EdgeView> Edges,
    int Running,
    int? MaxRunning,
    DateTimeOffset? NextEvent,
    DateTimeOffset EvaluatedAt);

public static class WhyVerdicts
{
    public const string Disabled = "disabled";
    public const string Due = "due";
    public const string Waiting = "waiting";
    public const string NotDue = "not_due";
}

public sealed record DagNode(string Name, string Task, string State);

public sealed record DagView(IReadOnlyList<DagNode> Nodes, IReadOnlyList<DependencyView> Edges)
{
    /// <summary>
    /// Graphviz DOT: an edge points from dependee to depender (the direction work flows); future edges are dashed.
    /// With <paramref name="link"/>, each node carries a Graphviz <c>URL</c> (the admin's click-through to the task).
    /// </summary>
    public string ToDot(Func<DagNode, string>? link = null)
    {
        var dot = new System.Text.StringBuilder("digraph djag {\n  rankdir=LR;\n  node [shape=box, style=\"rounded,filled\", fontname=\"sans-serif\"];\n");
        foreach (var n in Nodes)
        {
            var url = link is null ? "" : $", URL={Quote(link(n))}, target=\"_top\"";
            dot.Append($"  {Quote(n.Name)} [fillcolor={Quote(Colour(n.State))}, tooltip={Quote($"{n.Task} ({n.State})")}{url}];\n");
        }

        foreach (var e in Edges)
        {
            dot.Append($"  {Quote(e.Dependee)} -> {Quote(e.Depender)}{(e.FutureDepends ? " [style=dashed, label=\"future\"]" : "")};\n");
        }

        return dot.Append("}\n").ToString();
    }

    /// <summary>The colour of a task state, shared by the DOT output and the admin's picture.</summary>
    public static string Colour(string state) => state switch
    {
        TaskStates.Running => "#9ecbff",
        TaskStates.Failed => "#ffb3b3",
        TaskStates.Disabled => "#dddddd",
        _ => "#b8e6b8",
    };

    private static string Quote(string s) => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}

/// <summary>What a backfill queued: one run per event in the range with no run yet.</summary>
public sealed record BackfillResult(string Task, IReadOnlyList<long> RunIds, int AlreadyRan, int LeftToSchedule);

public enum DiffKind
{
    Added,
    Changed,
    Removed,
}

/// <summary>One task (by name) or dependency ("depender -> dependee") that an apply adds, changes or removes.</summary>
public sealed record DiffEntry(DiffKind Kind, string Name);

/// <summary>What an apply wrote (or, for a dry run, would write).</summary>
public sealed record ApplyResult(IReadOnlyList<DiffEntry> Tasks, IReadOnlyList<DiffEntry> Dependencies, bool DryRun)
{
    public bool IsEmpty => Tasks.Count == 0 && Dependencies.Count == 0;

    public void Print(TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (IsEmpty)
        {
            output.WriteLine("no changes");
        }

        foreach (var (what, entries) in new[] { ("task", Tasks), ("dependency", Dependencies) })
        {
            foreach (var entry in entries)
            {
                output.WriteLine($"{Verb(entry.Kind),-7} {what} {entry.Name}");
            }
        }

        output.WriteLine($"tasks: {Counts(Tasks)}; dependencies: {Counts(Dependencies)}");
        if (DryRun)
        {
            output.WriteLine("dry run: nothing was written");
        }
    }

    private static string Verb(DiffKind kind) => kind switch
    {
        DiffKind.Added => "add",
        DiffKind.Changed => "change",
        _ => "remove",
    };

    private static string Counts(IReadOnlyList<DiffEntry> entries) =>
        $"{entries.Count(e => e.Kind == DiffKind.Added)} added, {entries.Count(e => e.Kind == DiffKind.Changed)} changed, {entries.Count(e => e.Kind == DiffKind.Removed)} removed";
}

/// <summary>Filters of the task list. <see cref="Sort"/> is one of <see cref="TaskQuery.SortKeys"/>.</summary>
public sealed record TaskQuery(
    string? Search = null,
    bool? Enabled = null,
    bool? Running = null,
    string Sort = "name",
    bool Descending = false,
    int Offset = 0,
    int Limit = 50)
{
    public static readonly IReadOnlyList<string> SortKeys = ["name", "task", "last_cron_start", "last_cron_end", "total_run_count", "running"];
}

/// <summary>Filters of the run list, newest first.</summary>
public sealed record RunQuery(
    string? Task = null,
    string? State = null,
    string? Outcome = null,
    string? Origin = null,
    int Offset = 0,
    int Limit = 50);

public static class DependencyConditions
{
    public static string Name(DependencyCondition condition) => condition == DependencyCondition.Completion ? "completion" : "success";

    /// <summary>The condition of a stored name (<see cref="Name"/>'s inverse).</summary>
    public static DependencyCondition Parse(string name) => name == "completion" ? DependencyCondition.Completion : DependencyCondition.Success;
}
