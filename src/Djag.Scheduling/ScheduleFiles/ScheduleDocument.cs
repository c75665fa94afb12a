using System.Text.Json;
using NodaTime;

namespace Djag.Scheduling.ScheduleFiles;

/// <summary>
/// A validated schedule file: tasks, their dependencies and, for <c>djag simulate</c>, a simulation setup.
/// Produced by <see cref="ScheduleFile.Parse"/>; written back by <see cref="ScheduleFile.ToYaml"/> and
/// <see cref="ScheduleFile.ToJson"/>. Equality is structural (lists element by element, JSON values deeply),
/// so a document survives a write and a parse unchanged.
/// </summary>
public sealed record ScheduleDocument(
    IReadOnlyList<TaskSpec> Tasks,
    IReadOnlyList<DependencySpec> Dependencies,
    SimulateSpec? Simulate = null)
{
    public bool Equals(ScheduleDocument? other) =>
        other is not null
        && Tasks.SequenceEqual(other.Tasks)
        && Dependencies.SequenceEqual(other.Dependencies)
        && Equals(Simulate, other.Simulate);

    public override int GetHashCode() => HashCode.Combine(Tasks.Count, Dependencies.Count, Simulate);

    /// <summary>The dependency edges for the core; <paramref name="changedAt"/> is the mark given to every edge.</summary>
    public IReadOnlyList<DependencyEdge> Edges(long changedAt = 0) => [.. Dependencies.Select(d => d.ToEdge(changedAt))];
}

/// <summary>One periodic task (the seed's PeriodicTask with its crontab). Durations are whole seconds in the file.</summary>
public sealed record TaskSpec
{
    /// <summary>Unique name of the schedule entry.</summary>
    public required string Name { get; init; }

    /// <summary>Registered task name on the workers, e.g. "djag.echo".</summary>
    public required string Task { get; init; }

    /// <summary>The cron expression and its IANA time zone.</summary>
    public required CronSchedule Schedule { get; init; }

    /// <summary>As written in the file; null when it is not, and then the task counts from its creation.</summary>
    public Instant? CronBase { get; init; }

    public MisfirePolicy Misfire { get; init; } = MisfirePolicy.RunAll;

    /// <summary>Required for <see cref="MisfirePolicy.Skip"/> and <see cref="MisfirePolicy.Coalesce"/>.</summary>
    public Duration? GracePeriod { get; init; }

    public int? MaxCatchup { get; init; }

    public int? MaxRunning { get; init; }

    public int MaxRetries { get; init; }

    public Duration? RetryBackoff { get; init; }

    public Duration? Timeout { get; init; }

    public bool Enabled { get; init; } = true;

    /// <summary>A JSON array.</summary>
    public JsonElement Args { get; init; } = JsonValues.EmptyArray;

    /// <summary>A JSON object.</summary>
    public JsonElement Kwargs { get; init; } = JsonValues.EmptyObject;

    /// <summary>[A-Za-z0-9_-]{1,64}: it becomes a NATS subject token.</summary>
    public string Queue { get; init; } = DefaultQueue;

    /// <summary>0-255.</summary>
    public int Priority { get; init; }

    /// <summary>A JSON object.</summary>
    public JsonElement Headers { get; init; } = JsonValues.EmptyObject;

    public string Description { get; init; } = "";

    public const string DefaultQueue = "default";

    /// <summary>
    /// What the core evaluator and simulator need, for a task created at <paramref name="createdAt"/> (its
    /// cron_base when the file sets none); a missing grace period (run_all) is zero.
    /// </summary>
    public TaskDefinition ToDefinition(Instant createdAt) =>
        new(Name, Schedule, CronBase ?? createdAt, Misfire, GracePeriod ?? Duration.Zero, MaxCatchup, MaxRunning);

    public bool Equals(TaskSpec? other) =>
        other is not null
        && Name == other.Name
        && Task == other.Task
        && Schedule.Fields == other.Schedule.Fields
        && Schedule.TimeZoneId == other.Schedule.TimeZoneId
        && CronBase == other.CronBase
        && Misfire == other.Misfire
        && GracePeriod == other.GracePeriod
        && MaxCatchup == other.MaxCatchup
        && MaxRunning == other.MaxRunning
        && MaxRetries == other.MaxRetries
        && RetryBackoff == other.RetryBackoff
        && Timeout == other.Timeout
        && Enabled == other.Enabled
        && JsonElement.DeepEquals(Args, other.Args)
        && JsonElement.DeepEquals(Kwargs, other.Kwargs)
        && Queue == other.Queue
        && Priority == other.Priority
        && JsonElement.DeepEquals(Headers, other.Headers)
        && Description == other.Description;

    // JSON values are left out: DeepEquals ignores property order and number spelling, which no cheap hash can.
    public override int GetHashCode() => HashCode.Combine(Name, Task, Schedule.Fields, Schedule.TimeZoneId, CronBase, Misfire, GracePeriod);
}

/// <summary>Depender waits on dependee (semantics.md section 4).</summary>
public sealed record DependencySpec(
    string Depender,
    string Dependee,
    bool FutureDepends = false,
    DependencyCondition Condition = DependencyCondition.Success)
{
    public DependencyEdge ToEdge(long changedAt = 0) => new(Depender, Dependee, FutureDepends, Condition, changedAt);
}

/// <summary>
/// The optional <c>simulate:</c> section. <see cref="From"/> and <see cref="To"/> may be left to the command line.
/// </summary>
public sealed record SimulateSpec(
    Instant? From,
    Instant? To,
    IReadOnlyList<SimulationWindow> BeatDown,
    IReadOnlyList<SimulatedRuns> Runs)
{
    public bool Equals(SimulateSpec? other) =>
        other is not null
        && From == other.From
        && To == other.To
        && BeatDown.SequenceEqual(other.BeatDown)
        && Runs.SequenceEqual(other.Runs);

    public override int GetHashCode() => HashCode.Combine(From, To, BeatDown.Count, Runs.Count);
}

/// <summary>How the simulated runs of <see cref="Task"/> behave: each lasts <see cref="Duration"/>, and
/// their outcomes follow <see cref="Outcomes"/> in turn, repeating.</summary>
public sealed record SimulatedRuns(string Task, Duration Duration, IReadOnlyList<RunOutcome> Outcomes)
{
    public bool Equals(SimulatedRuns? other) =>
        other is not null && Task == other.Task && Duration == other.Duration && Outcomes.SequenceEqual(other.Outcomes);

    public override int GetHashCode() => HashCode.Combine(Task, Duration, Outcomes.Count);
}
