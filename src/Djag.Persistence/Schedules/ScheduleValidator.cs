using System.Text.Json;
using System.Text.RegularExpressions;
using Djag.Scheduling;
using Djag.Scheduling.ScheduleFiles;

namespace Djag.Persistence.Schedules;

/// <summary>The checks of a change that need no database: each field alone, and names within the change.</summary>
internal static partial class ScheduleValidator
{
    public const int MaxNameLength = 200;

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex QueuePattern();

    public static void ValidateCrontab(string path, CrontabSpec spec, List<FieldError> errors)
    {
        if (!CronSchedule.TryCreate(spec.Fields, spec.Timezone, out _, out var cronErrors))
        {
            errors.AddRange(cronErrors.Select(e => new FieldError($"{path}.{e.Field}", e.Message)));
        }
    }

    public static void ValidateTask(string path, TaskEdit t, List<FieldError> errors)
    {
        void Error(string field, string message) => errors.Add(new FieldError($"{path}.{field}", message));

        CheckName(t.Name, "name", Error);
        CheckName(t.Task, "task", Error);
        ValidateCrontab(path, t.Crontab, errors);
        if (!QueuePattern().IsMatch(t.Queue))
        {
            Error("queue", $"'{t.Queue}' is not a valid queue name: use 1-64 letters, digits, '_' or '-'");
        }

        if (t.Priority is < 0 or > 255)
        {
            Error("priority", $"{t.Priority} is out of range: priority is 0-255");
        }

        if (t.SkipMisfire && t.CoalesceMisfire)
        {
            Error("coalesce_misfire", "skip_misfire and coalesce_misfire cannot both be set");
        }

        if ((t.SkipMisfire || t.CoalesceMisfire) && t.GracePeriod is null)
        {
            Error("grace_period", $"required when {(t.SkipMisfire ? "skip_misfire" : "coalesce_misfire")} is set");
        }

        AtLeast("grace_period", t.GracePeriod, 0);
        AtLeast("max_catchup", t.MaxCatchup, 1);
        AtLeast("max_running", t.MaxRunning, 1);
        AtLeast("max_retries", t.MaxRetries, 0);
        AtLeast("retry_backoff", t.RetryBackoff, 0);
        AtLeast("timeout", t.Timeout, 1);
        if (StorableText.Problem(t.Description) is { } description)
        {
            Error("description", description);
        }

        if (t.CronBase is { } cronBase && (cronBase < IsoInstant.Min || cronBase > IsoInstant.Max))
        {
            Error("cron_base", $"{cronBase} is out of range: use an instant in the years 0001-9999");
        }

        CheckJson("args", t.Args, JsonValueKind.Array, Error);
        CheckJson("kwargs", t.Kwargs, JsonValueKind.Object, Error);
        CheckJson("headers", t.Headers, JsonValueKind.Object, Error);

        void AtLeast(string field, int? value, int min)
        {
            if (value < min)
            {
                Error(field, $"{value} is out of range: {field} must be at least {min}");
            }
        }
    }

    public static void ValidateDependency(string path, DependencyEdit d, List<FieldError> errors)
    {
        if (d.Depender == d.Dependee && !d.FutureDepends)
        {
            errors.Add(new FieldError(path, $"'{d.Depender}' may depend on itself only with future_depends"));
        }
    }

    /// <summary>Names that appear twice in one change are ambiguous.</summary>
    public static void ValidateUnique<T>(string what, IEnumerable<T> items, Func<T, string> key, List<FieldError> errors)
    {
        foreach (var duplicate in items.GroupBy(key, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            errors.Add(new FieldError($"{what}[{duplicate.Key}]", "appears more than once in the change"));
        }
    }

    private static void CheckName(string value, string field, Action<string, string> error)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            error(field, "required");
        }
        else if (value.Length > MaxNameLength)
        {
            error(field, $"'{value[..40]}...' is {value.Length} characters long; at most {MaxNameLength} are allowed");
        }
        else if (value.Any(char.IsControl) || value != value.Trim())
        {
            error(field, $"'{value.Replace("\0", "\\u0000", StringComparison.Ordinal)}' must not contain control characters or leading/trailing spaces");
        }
        else if (StorableText.Problem(value) is { } problem)
        {
            error(field, problem);
        }
    }

    private static void CheckJson(string field, string json, JsonValueKind expected, Action<string, string> error)
    {
        var shown = json.Length > 60 ? json[..60] + "..." : json;
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != expected)
            {
                error(field, $"{shown} is not a JSON {(expected == JsonValueKind.Array ? "array" : "object")}");
            }

            // PostgreSQL's jsonb refuses \u0000 and lone surrogates, and numeric overflows on huge exponents.
            StorableText.Check(document.RootElement, field, error);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            error(field, $"{shown} is not valid JSON: {ex.Message}");
        }
    }
}
