using NodaTime;

namespace Djag.Scheduling;

/// <summary>How a run ended.</summary>
public enum RunOutcome
{
    Success,
    Failure,
}

/// <summary>Section 5: the state changes the beat writes, as pure functions returning new state.</summary>
public static class TaskBookkeeping
{
    /// <summary>After recording a decision's skipped and coalesced events: the pointer moves past them.</summary>
    public static TaskState OnMisfires(TaskState state, TaskDecision decision)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(decision);
        return decision is TaskDecision.Dispatch || (decision.Skipped.Count == 0 && decision.Coalesced.Count == 0)
            ? state
            : state with { CronPointer = Max(state.CronPointer, decision.NewPointer) };
    }

    /// <summary>On dispatch of <paramref name="cronEvent"/> at <paramref name="now"/> under <paramref name="mark"/>:
    /// running += 1, last_cron_start = now, the pointer moves to the event.</summary>
    public static TaskState OnDispatch(TaskState state, Instant cronEvent, Instant now, long mark)
    {
        ArgumentNullException.ThrowIfNull(state);
        return state with
        {
            Running = state.Running + 1,
            CronPointer = Max(state.CronPointer, cronEvent),
            LastStartMark = mark,
            LastCronStart = now,
        };
    }

    /// <summary>Applies a whole decision: its misfires and, for a dispatch, the dispatch itself.</summary>
    public static TaskState Apply(TaskState state, TaskDecision decision, Instant now, long dispatchMark)
    {
        ArgumentNullException.ThrowIfNull(decision);
        var afterMisfires = OnMisfires(state, decision);
        return decision is TaskDecision.Dispatch d ? OnDispatch(afterMisfires, d.Event, now, dispatchMark) : afterMisfires;
    }

    /// <summary>On completion of the run of <paramref name="cronEvent"/> at <paramref name="now"/> under
    /// <paramref name="mark"/>: running -= 1 (never below 0), last_cron_end = now, total_run_count += 1,
    /// last_cron = max(last_cron, event); the completion mark always, the success mark on success.
    /// <paramref name="cronEvent"/> is null for a manual run (run-now), which is no cron event and leaves
    /// last_cron, and so the pointer, alone.</summary>
    public static TaskState OnCompletion(TaskState state, Instant? cronEvent, Instant now, long mark, RunOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(state);
        return state with
        {
            Running = Math.Max(0, state.Running - 1),
            LastCron = cronEvent is { } e ? Max(state.LastCron, e) : state.LastCron,
            LastCompletionMark = mark,
            LastSuccessMark = outcome == RunOutcome.Success ? mark : state.LastSuccessMark,
            LastCronEnd = now,
            TotalRunCount = state.TotalRunCount + 1,
        };
    }

    private static Instant Max(Instant? current, Instant candidate) =>
        current is { } c && c > candidate ? c : candidate;
}
