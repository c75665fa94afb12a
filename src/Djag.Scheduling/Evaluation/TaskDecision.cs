using NodaTime;

namespace Djag.Scheduling;

/// <summary>
/// The evaluator's answer for one task at one moment. Every kind carries the events the misfire walk
/// consumed without running them (<see cref="Skipped"/>, <see cref="Coalesced"/>), so the caller records
/// them and moves the pointer to <see cref="NewPointer"/> whatever the decision is.
/// </summary>
/// <param name="Skipped">Events dropped, oldest first: later than grace under skip, or cut by max_catchup.</param>
/// <param name="Coalesced">Late events that the newest late event stands for (coalesce only), oldest first.</param>
/// <param name="NewPointer">The pointer once the decision is applied: the dispatched event for
/// <see cref="Dispatch"/>, else the newest skipped or coalesced event (or the unchanged pointer).</param>
/// <param name="NextEvaluationAt">The next instant at which time alone can change the answer (the beat's next
/// trigger time): the dispatch instant itself when more events are already due, otherwise the next cron event;
/// null when the schedule has no further event. Completions of the task or a dependee and edge changes also
/// call for evaluation, but they are events, not times.</param>
public abstract record TaskDecision(
    IReadOnlyList<Instant> Skipped,
    IReadOnlyList<Instant> Coalesced,
    Instant NewPointer,
    Instant? NextEvaluationAt)
{
    /// <summary>Run <paramref name="Event"/> now.</summary>
    public sealed record Dispatch(
        Instant Event,
        IReadOnlyList<Instant> Skipped,
        IReadOnlyList<Instant> Coalesced,
        Instant? NextEvaluationAt) : TaskDecision(Skipped, Coalesced, Event, NextEvaluationAt);

    /// <summary><paramref name="Event"/> is due but held back; each reason names the edge or the limit.</summary>
    public sealed record Wait(
        Instant Event,
        IReadOnlyList<string> Reasons,
        IReadOnlyList<Instant> Skipped,
        IReadOnlyList<Instant> Coalesced,
        Instant NewPointer,
        Instant? NextEvaluationAt) : TaskDecision(Skipped, Coalesced, NewPointer, NextEvaluationAt);

    /// <summary>No event is due; the next one is at <paramref name="NextEventAt"/> (null: never).</summary>
    public sealed record NotDue(
        Instant? NextEventAt,
        IReadOnlyList<Instant> Skipped,
        IReadOnlyList<Instant> Coalesced,
        Instant NewPointer) : TaskDecision(Skipped, Coalesced, NewPointer, NextEventAt);
}

/// <summary>Whether one edge lets its depender start, and why, in words for the admin and the CLI.</summary>
public sealed record EdgeResolution(DependencyEdge Edge, bool Resolved, string Explanation)
{
    /// <summary>"waiting on transform -> extract: extract has not succeeded since transform last started".</summary>
    public string WaitReason => $"waiting on {Edge}: {Explanation}";
}
