using System.Text.Json;
using System.Text.Json.Nodes;
using NodaTime;

namespace Djag.Scheduling.ScheduleFiles;

/// <summary>
/// The JSON shape of a document, read back by <see cref="ScheduleDocumentReader"/>. Fields at their defaults are
/// left out, except timezone and cron_base, whose defaults depend on the reader (the Timezone setting, now).
/// </summary>
internal static class ScheduleDocumentWriter
{
    public static JsonObject ToJson(ScheduleDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        var root = new JsonObject { ["tasks"] = new JsonArray([.. document.Tasks.Select(Task)]) };
        if (document.Dependencies.Count > 0)
        {
            root["dependencies"] = new JsonArray([.. document.Dependencies.Select(Dependency)]);
        }

        if (document.Simulate is { } simulate)
        {
            root["simulate"] = Simulate(simulate);
        }

        return root;
    }

    private static JsonObject Task(TaskSpec task)
    {
        var fields = task.Schedule.Fields;
        var obj = new JsonObject
        {
            ["name"] = task.Name,
            ["task"] = task.Task,
            // Five fields when the second is the one five-field expressions imply, as people write them.
            ["cron"] = fields.Second == "0"
                ? $"{fields.Minute} {fields.Hour} {fields.DayOfMonth} {fields.MonthOfYear} {fields.DayOfWeek}"
                : fields.Expression,
            ["timezone"] = task.Schedule.TimeZoneId,
        };
        if (task.CronBase is { } cronBase)
        {
            obj["cron_base"] = IsoInstant.Format(cronBase);
        }

        if (task.Misfire != MisfirePolicy.RunAll)
        {
            obj["misfire"] = Name(ScheduleDocumentReader.Misfires, task.Misfire);
        }

        AddSeconds(obj, "grace_period", task.GracePeriod);
        AddInteger(obj, "max_catchup", task.MaxCatchup);
        AddInteger(obj, "max_running", task.MaxRunning);
        AddInteger(obj, "max_retries", task.MaxRetries == 0 ? null : task.MaxRetries);
        AddSeconds(obj, "retry_backoff", task.RetryBackoff);
        AddSeconds(obj, "timeout", task.Timeout);
        if (!task.Enabled)
        {
            obj["enabled"] = false;
        }

        AddJson(obj, "args", task.Args, JsonValueKind.Array);
        AddJson(obj, "kwargs", task.Kwargs, JsonValueKind.Object);
        if (task.Queue != TaskSpec.DefaultQueue)
        {
            obj["queue"] = task.Queue;
        }

        AddInteger(obj, "priority", task.Priority == 0 ? null : task.Priority);
        AddJson(obj, "headers", task.Headers, JsonValueKind.Object);
        if (task.Description.Length > 0)
        {
            obj["description"] = task.Description;
        }

        return obj;
    }

    private static JsonObject Dependency(DependencySpec dependency)
    {
        var obj = new JsonObject { ["depender"] = dependency.Depender, ["dependee"] = dependency.Dependee };
        if (dependency.FutureDepends)
        {
            obj["future_depends"] = true;
        }

        if (dependency.Condition != DependencyCondition.Success)
        {
            obj["condition"] = Name(ScheduleDocumentReader.Conditions, dependency.Condition);
        }

        return obj;
    }

    private static JsonObject Simulate(SimulateSpec simulate)
    {
        var obj = new JsonObject();
        if (simulate.From is { } from)
        {
            obj["from"] = IsoInstant.Format(from);
        }

        if (simulate.To is { } to)
        {
            obj["to"] = IsoInstant.Format(to);
        }

        if (simulate.BeatDown.Count > 0)
        {
            obj["beat_down"] = new JsonArray([.. simulate.BeatDown.Select(w => (JsonNode)new JsonObject
            {
                ["from"] = IsoInstant.Format(w.From),
                ["to"] = IsoInstant.Format(w.To),
            })]);
        }

        if (simulate.Runs.Count > 0)
        {
            var runs = new JsonObject();
            foreach (var run in simulate.Runs)
            {
                runs[run.Task] = new JsonObject
                {
                    ["duration"] = (long)run.Duration.TotalSeconds,
                    ["outcomes"] = new JsonArray([.. run.Outcomes.Select(o => (JsonNode)Name(ScheduleDocumentReader.Outcomes, o))]),
                };
            }

            obj["runs"] = runs;
        }

        return obj;
    }

    private static string Name<T>(IReadOnlyDictionary<string, T> names, T value)
        where T : struct, Enum =>
        names.First(pair => EqualityComparer<T>.Default.Equals(pair.Value, value)).Key;

    private static void AddInteger(JsonObject obj, string field, int? value)
    {
        if (value is { } v)
        {
            obj[field] = v;
        }
    }

    // The file counts whole seconds; the reader only ever builds such durations.
    private static void AddSeconds(JsonObject obj, string field, Duration? value)
    {
        if (value is { } v)
        {
            obj[field] = (long)v.TotalSeconds;
        }
    }

    private static void AddJson(JsonObject obj, string field, JsonElement value, JsonValueKind kind)
    {
        var empty = value.ValueKind == kind && (kind == JsonValueKind.Array ? value.GetArrayLength() == 0 : !value.EnumerateObject().Any());
        if (!empty)
        {
            obj[field] = JsonNode.Parse(value.GetRawText());
        }
    }
}
