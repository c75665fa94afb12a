using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using System.Text.Json.Serialization;
using Djag.Scheduling;

namespace Djag.Api;

// Request bodies and the one view the operations layer has no record for. Field names are snake_case on the
// wire (the API's JSON options), like every other record of the API.

/// <summary>
/// A task as one entry of a schedule file: the same fields, defaults and checks (POST /tasks, PUT /tasks/{name}).
/// Omitted fields take the file's defaults, except <see cref="CronBase"/>, which an update keeps.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record TaskBody
{
    /// <summary>Unique name of the entry; on PUT a different name renames the task (default: the name in the route).</summary>
    [Required]
    public string? Name { get; init; }

    /// <summary>Registered task name on the workers, e.g. "djag.echo".</summary>
    [Required]
    public string? Task { get; init; }

    /// <summary>Five fields (minute first) or six (seconds first).</summary>
    [Required]
    public string? Cron { get; init; }

    /// <summary>IANA time zone of the cron expression; default UTC.</summary>
    public string? Timezone { get; init; }

    /// <summary>ISO 8601 instant the schedule counts from; default: the task's creation.</summary>
    public string? CronBase { get; init; }

    /// <summary>run_all (default), skip or coalesce; skip and coalesce need a grace_period.</summary>
    public string? Misfire { get; init; }

    /// <summary>Seconds.</summary>
    public int? GracePeriod { get; init; }

    public int? MaxCatchup { get; init; }
    public int? MaxRunning { get; init; }
    public int? MaxRetries { get; init; }

    /// <summary>Seconds.</summary>
    public int? RetryBackoff { get; init; }

    /// <summary>Seconds.</summary>
    public int? Timeout { get; init; }

    public bool? Enabled { get; init; }

    /// <summary>A JSON array.</summary>
    public JsonElement? Args { get; init; }

    /// <summary>A JSON object.</summary>
    public JsonElement? Kwargs { get; init; }

    public string? Queue { get; init; }

    /// <summary>0-255.</summary>
    public int? Priority { get; init; }

    /// <summary>A JSON object.</summary>
    public JsonElement? Headers { get; init; }

    public string? Description { get; init; }
}

/// <summary>A crontab (POST /crontabs, PUT /crontabs/{id}): a cron expression of five or six fields and its time zone (default UTC).</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record CrontabBody([property: Required] string? Cron, string? Timezone = null);

/// <summary>A crontab with the six-field expression (seconds first) and the tasks on it.</summary>
public sealed record CrontabView(long Id, string Cron, string Timezone, IReadOnlyList<string> Tasks);

/// <summary>The settings of an edge (PUT /dependencies/{depender}/{dependee}); the body may be omitted for the defaults.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record DependencyBody(bool FutureDepends = false, DependencyCondition Condition = DependencyCondition.Success);

/// <summary>The range of a backfill (POST /tasks/{name}/backfill), both ends included, as ISO 8601 instants.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record BackfillBody([property: Required] DateTimeOffset? From, [property: Required] DateTimeOffset? To);
