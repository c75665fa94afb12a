using NodaTime;

namespace Djag.Scheduling;

/// <summary>
/// The pure rules of semantics.md sections 2-4 for one task at one moment. The beat, the simulator and
/// the admin's "why is it waiting" view all call this; time is passed in and nothing is remembered.
/// </summary>
/// <remarks>
/// The caller evaluates a task again at <see cref="TaskDecision.NextEvaluationAt"/>, at once after applying a
/// <see cref="TaskDecision.Dispatch"/> (catch-up events dispatch one after another), when the task or one of
/// its dependees completes a run, and when its definition or edges change.
/// </remarks>
public static class TaskEvaluator
{
    /// <summary>The newest of the pointer, <c>last_cron</c> and <c>cron_base</c>: events strictly after it are pending.</summary>
    public static Instant PointerOf(TaskDefinition task, TaskState state)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(state);
        var pointer = task.CronBase;
        if (state.CronPointer is { } p && p > pointer)
        {
            pointer = p;
        }

        if (state.LastCron is { } l && l > pointer)
        {
            pointer = l;
        }

        return pointer;
    }

    /// <summary>The first event after the task's pointer, whether due or not (null: the schedule never fires again).</summary>
    public static Instant? NextEvent(TaskDefinition task, TaskState state) => task.Schedule.NextAfter(PointerOf(task, state));

    /// <summary>
    /// Whether an event past the task's pointer falls at or before <paramref name="by"/>. When none does,
    /// <see cref="Evaluate"/> up to <paramref name="by"/> is <see cref="TaskDecision.NotDue"/> with nothing skipped or
    /// coalesced, whatever the task's dependencies and running count: nothing waits for a slot or a completion.
    /// </summary>
    public static bool HasDueEvent(TaskDefinition task, TaskState state, Instant by) => NextEvent(task, state) is { } next && next <= by;

    /// <summary>
    /// Decides what the task does at <paramref name="now"/>: misfire walk (section 3), then dependencies
    /// (section 4) and max_running for the event that is due.
    /// </summary>
    /// <param name="task">The task.</param>
    /// <param name="state">Its scheduler state.</param>
    /// <param name="edges">Dependency edges; only those whose depender is <paramref name="task"/> are used, so all edges may be passed.</param>
    /// <param name="dependees">Dependees by name; a name absent here is a deleted or unknown task. The task's own state is used for a self edge.</param>
    /// <param name="now">The beat's clock.</param>
    public static TaskDecision Evaluate(
        TaskDefinition task,
        TaskState state,
        IEnumerable<DependencyEdge> edges,
        IReadOnlyDictionary<string, DependeeStatus> dependees,
        Instant now)
    {
        var pointer = PointerOf(task, state);
        var walk = MisfireWalk.Walk(task, pointer, now);
        if (walk.Due is not { } due)
        {
            return new TaskDecision.NotDue(task.Schedule.NextAfter(walk.PointerAfterMisfires), walk.Skipped, walk.Coalesced, walk.PointerAfterMisfires);
        }

        List<string>? reasons = null;
        if (ConcurrencyLimitReason(task, state) is { } limit)
        {
            (reasons ??= []).Add(limit);
        }

        foreach (var resolution in ResolveEdges(task.Name, state, edges, dependees))
        {
            if (!resolution.Resolved)
            {
                (reasons ??= []).Add(resolution.WaitReason);
            }
        }

        if (reasons is not null)
        {
            var later = walk.PointerAfterMisfires > now ? walk.PointerAfterMisfires : now;
            return new TaskDecision.Wait(due, reasons, walk.Skipped, walk.Coalesced, walk.PointerAfterMisfires, task.Schedule.NextAfter(later));
        }

        var following = task.Schedule.NextAfter(due);
        var nextEvaluation = following is { } f && f <= now ? now : following;
        return new TaskDecision.Dispatch(due, walk.Skipped, walk.Coalesced, nextEvaluation);
    }

    /// <summary>
    /// The status of every edge of <paramref name="depender"/> (ordered by dependee, ordinal), resolved or not:
    /// what the admin shows as "why is it waiting".
    /// </summary>
    public static IReadOnlyList<EdgeResolution> ResolveEdges(
        string depender,
        TaskState dependerState,
        IEnumerable<DependencyEdge> edges,
        IReadOnlyDictionary<string, DependeeStatus> dependees)
    {
        ArgumentNullException.ThrowIfNull(edges);
        ArgumentNullException.ThrowIfNull(dependees);

        // A plain loop: the simulator evaluates a 1-second cron 86,400 times a simulated day.
        List<EdgeResolution>? resolutions = null;
        foreach (var edge in edges)
        {
            if (!string.Equals(edge.Depender, depender, StringComparison.Ordinal))
            {
                continue;
            }

            var dependee = string.Equals(edge.Dependee, depender, StringComparison.Ordinal)
                ? new DependeeStatus(dependerState)
                : dependees.GetValueOrDefault(edge.Dependee);
            (resolutions ??= []).Add(ResolveEdge(edge, dependerState, dependee));
        }

        if (resolutions is null)
        {
            return [];
        }

        resolutions.Sort(static (a, b) => string.CompareOrdinal(a.Edge.Dependee, b.Edge.Dependee));
        return resolutions;
    }

    /// <summary>
    /// Section 4 for one edge. <paramref name="dependee"/> null means deleted or unknown; it and a disabled
    /// dependee keep the depender waiting, whatever the edge's flags.
    /// </summary>
    public static EdgeResolution ResolveEdge(DependencyEdge edge, TaskState dependerState, DependeeStatus? dependee)
    {
        ArgumentNullException.ThrowIfNull(edge);
        ArgumentNullException.ThrowIfNull(dependerState);
        if (dependee is null)
        {
            return new(edge, false, $"{edge.Dependee} does not exist (deleted or never created)");
        }

        if (!dependee.Enabled)
        {
            return new(edge, false, $"{edge.Dependee} is disabled");
        }

        var started = dependerState.LastStartMark;
        if (edge.FutureDepends && (started is null || started < edge.ChangedAt))
        {
            return new(edge, true, started is null
                ? $"future dependency: {edge.Depender} has not started yet, so its first run is free"
                : $"future dependency: {edge.Depender} has not started since the edge changed, so this run is free");
        }

        var (verb, completed) = edge.Condition == DependencyCondition.Success
            ? ("succeeded", dependee.State.LastSuccessMark)
            : ("completed", dependee.State.LastCompletionMark);

        if (completed is null)
        {
            return new(edge, false, $"{edge.Dependee} has never {verb}");
        }

        if (started is null)
        {
            return new(edge, true, $"{edge.Dependee} has {verb} and {edge.Depender} never started");
        }

        return completed > started
            ? new(edge, true, $"{edge.Dependee} has {verb} since {edge.Depender} last started")
            : new(edge, false, $"{edge.Dependee} has not {verb} since {edge.Depender} last started");
    }

    /// <summary>"max_running 1 reached (1 running)" when the limit forbids a start, else null.</summary>
    public static string? ConcurrencyLimitReason(TaskDefinition task, TaskState state)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(state);
        return task.MaxRunning is { } max && state.Running >= max
            ? $"max_running {max} reached ({state.Running} running)"
            : null;
    }
}
