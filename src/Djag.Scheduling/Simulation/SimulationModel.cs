using NodaTime;

namespace Djag.Scheduling;

/// <summary>
/// A task in a simulation. Every run takes <see cref="RunDuration"/> (zero: it finishes at the instant it
/// starts, after that instant's dispatches); the k-th run of the task ends with
/// <see cref="Outcomes"/>[k mod count] (an empty list means every run succeeds).
/// </summary>
public sealed record SimulationTask(TaskDefinition Definition, Duration RunDuration, IReadOnlyList<RunOutcome> Outcomes)
{
    /// <summary>Defaults: runs take no time and always succeed.</summary>
    public SimulationTask(TaskDefinition definition)
        : this(definition, Duration.Zero, [RunOutcome.Success])
    {
    }
}

/// <summary>[From, To): the beat is down.</summary>
public sealed record SimulationWindow(Instant From, Instant To);

/// <summary>Simulate [From, To). Tasks start with empty state; edges' ChangedAt should be 0 (before every mark).</summary>
public sealed record SimulationInput(
    IReadOnlyList<SimulationTask> Tasks,
    IReadOnlyList<DependencyEdge> Edges,
    Instant From,
    Instant To,
    IReadOnlyList<SimulationWindow> BeatDown);

public enum SimulationEventKind
{
    Dispatched,
    Finished,
    Skipped,
    Coalesced,
    Waiting,
}

/// <summary>
/// One line of a simulation. <see cref="At"/> is the virtual beat time, <see cref="Cron"/> the cron event concerned.
/// <see cref="Outcome"/> is set on <see cref="SimulationEventKind.Finished"/>; <see cref="Reason"/> on
/// Skipped, Coalesced and Waiting (Waiting joins several reasons with "; ").
/// </summary>
public sealed record SimulationEvent(
    Instant At,
    string Task,
    Instant Cron,
    SimulationEventKind Kind,
    RunOutcome? Outcome = null,
    string? Reason = null);
