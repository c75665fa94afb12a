using System.Text.Json;
using System.Text.Json.Serialization;

namespace Djag.Contracts;

/// <summary>A dispatched run, published by the beat on <see cref="DjagNames.RunsSubject"/> with the run id as message id.</summary>
public sealed record RunMessage
{
    public required long RunId { get; init; }

    /// <summary>The periodic task's unique name (<c>extract</c>).</summary>
    public required string Name { get; init; }

    /// <summary>The registered task the worker runs (<c>etl.extract</c>).</summary>
    public required string Task { get; init; }

    /// <summary>The cron event's instant (for a manual run, when it was requested).</summary>
    public required DateTimeOffset Cron { get; init; }

    public required int Attempt { get; init; }

    /// <summary>A JSON array.</summary>
    public required JsonElement Args { get; init; }

    /// <summary>A JSON object.</summary>
    public required JsonElement Kwargs { get; init; }

    /// <summary>A JSON object.</summary>
    public required JsonElement Headers { get; init; }

    public required string Queue { get; init; }
    public required int Priority { get; init; }

    /// <summary>Seconds the run may take before the worker cancels it; null: no limit.</summary>
    public int? TimeoutSeconds { get; init; }

    public required DateTimeOffset DispatchedAt { get; init; }
}

/// <summary>States a run report moves through; a report never goes back.</summary>
public static class RunReportStates
{
    public const string Started = "started";
    public const string Finished = "finished";
}

/// <summary>Outcomes of a finished run.</summary>
public static class RunReportOutcomes
{
    public const string Success = "success";
    public const string Failure = "failure";
}

/// <summary>
/// A worker's report on a run, the value under <see cref="DjagNames.RunKey"/> in <see cref="DjagNames.RunReportsBucket"/>.
/// The worker creates the key when it starts the run (a create, so only one worker can own a run) and
/// updates it once when the run finishes; the beat watches the bucket.
/// </summary>
public sealed record RunReport
{
    public required long RunId { get; init; }
    public required string State { get; init; }
    public required string Worker { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary><see cref="RunReportOutcomes"/>, when finished.</summary>
    public string? Outcome { get; init; }

    public string? Error { get; init; }

    /// <summary>The last few KiB of the task's output.</summary>
    public string? OutputTail { get; init; }
}

/// <summary>A worker's presence, the value under its id in <see cref="DjagNames.WorkersBucket"/>, refreshed every heartbeat.</summary>
public sealed record WorkerHeartbeat
{
    public required string Worker { get; init; }
    public required string Host { get; init; }
    public required int ProcessId { get; init; }
    public required IReadOnlyList<string> Queues { get; init; }
    public required int Concurrency { get; init; }
    public required IReadOnlyList<long> RunningRuns { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public required DateTimeOffset At { get; init; }
}

/// <summary>Source-generated JSON for every contract message: snake_case names on the wire.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RunMessage))]
[JsonSerializable(typeof(RunReport))]
[JsonSerializable(typeof(WorkerHeartbeat))]
public sealed partial class DjagJsonContext : JsonSerializerContext;
