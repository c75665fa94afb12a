using System.Text.Json;
using System.Text.RegularExpressions;
using NodaTime;

namespace Djag.Scheduling.ScheduleFiles;

/// <summary>
/// Validates the JSON form of a schedule file and builds the document. It records every problem it finds and
/// keeps going, so one run reports them all; the caller discards the document when any was recorded.
/// </summary>
internal sealed partial class ScheduleDocumentReader(ScheduleFileOptions options, List<ScheduleFileError> errors)
{
    private const int MaxNameLength = 200;
    private const long MaxSeconds = int.MaxValue;

    private static readonly string[] RootFields = ["tasks", "dependencies", "simulate"];

    private static readonly string[] TaskFields =
    [
        "name", "task", "cron", "timezone", "cron_base", "misfire", "grace_period", "max_catchup", "max_running",
        "max_retries", "retry_backoff", "timeout", "enabled", "args", "kwargs", "queue", "priority", "headers", "description",
    ];

    private static readonly string[] DependencyFields = ["depender", "dependee", "future_depends", "condition"];
    private static readonly string[] SimulateFields = ["from", "to", "beat_down", "runs"];
    private static readonly string[] WindowFields = ["from", "to"];
    private static readonly string[] RunFields = ["duration", "outcomes"];

    public ScheduleDocument? Read(JsonElement root)
    {
        if (root.ValueKind == JsonValueKind.Null)
        {
            errors.Add(new ScheduleFileError("", "the file is empty"));
            return null;
        }

        var fields = FieldReader.Open(root, "", RootFields, errors);
        if (fields is null)
        {
            return null;
        }

        var names = new Dictionary<string, int>(StringComparer.Ordinal);
        var tasks = new List<TaskSpec>();
        if (fields.Require("tasks") is { } tasksElement && fields.ExpectKind(tasksElement, "tasks", JsonValueKind.Array))
        {
            var index = 0;
            foreach (var item in tasksElement.EnumerateArray())
            {
                if (ReadTask(item, $"tasks[{index}]", index, names) is { } task)
                {
                    tasks.Add(task);
                }

                index++;
            }
        }

        var dependencies = new List<DependencySpec>();
        if (fields.Optional("dependencies") is { } dependenciesElement && fields.ExpectKind(dependenciesElement, "dependencies", JsonValueKind.Array))
        {
            dependencies = ReadDependencies(dependenciesElement, names);
        }

        SimulateSpec? simulate = null;
        if (fields.Optional("simulate") is { } simulateElement)
        {
            simulate = ReadSimulate(simulateElement, "simulate", names);
        }

        return new ScheduleDocument(tasks, dependencies, simulate);
    }

    private TaskSpec? ReadTask(JsonElement element, string path, int index, Dictionary<string, int> names)
    {
        var fields = FieldReader.Open(element, path, TaskFields, errors);
        if (fields is null)
        {
            return null;
        }

        var before = errors.Count;
        var name = fields.Name("name");
        if (name is not null && !names.TryAdd(name, index))
        {
            errors.Add(new ScheduleFileError(fields.PathOf("name"), $"duplicate name '{name}' (also tasks[{names[name]}])"));
        }

        var task = fields.Name("task");
        var cron = fields.String("cron", required: true);
        var timeZone = fields.String("timezone") ?? options.DefaultTimeZone;
        var schedule = cron is null ? null : Schedule(cron, timeZone, fields);
        var cronBase = fields.Instant("cron_base");
        var misfire = fields.Enum("misfire", Misfires) ?? MisfirePolicy.RunAll;
        var grace = fields.Seconds("grace_period", 0);
        if (grace is null && misfire != MisfirePolicy.RunAll && fields.IsValid("misfire") && fields.IsValid("grace_period"))
        {
            errors.Add(new ScheduleFileError(fields.PathOf("grace_period"), $"required when misfire is {Misfires.First(p => p.Value == misfire).Key}"));
        }

        var maxCatchup = fields.Integer("max_catchup", 1, int.MaxValue);
        var maxRunning = fields.Integer("max_running", 1, int.MaxValue);
        var maxRetries = fields.Integer("max_retries", 0, int.MaxValue) ?? 0;
        var retryBackoff = fields.Seconds("retry_backoff", 0);
        var timeout = fields.Seconds("timeout", 1);
        var enabled = fields.Boolean("enabled") ?? true;
        var args = fields.Json("args", JsonValueKind.Array) ?? JsonValues.EmptyArray;
        var kwargs = fields.Json("kwargs", JsonValueKind.Object) ?? JsonValues.EmptyObject;
        var queue = fields.String("queue") ?? TaskSpec.DefaultQueue;
        if (fields.IsValid("queue") && !QueuePattern().IsMatch(queue))
        {
            errors.Add(new ScheduleFileError(fields.PathOf("queue"), $"'{queue}' is not a valid queue: use 1-64 of A-Z a-z 0-9 _ - (it becomes a NATS subject token)"));
        }

        var priority = fields.Integer("priority", 0, 255) ?? 0;
        var headers = fields.Json("headers", JsonValueKind.Object) ?? JsonValues.EmptyObject;
        var description = fields.String("description") ?? "";

        if (errors.Count > before || name is null || task is null || schedule is null)
        {
            return null;
        }

        return new TaskSpec
        {
            Name = name,
            Task = task,
            Schedule = schedule,
            CronBase = cronBase,
            Misfire = misfire,
            GracePeriod = grace,
            MaxCatchup = (int?)maxCatchup,
            MaxRunning = (int?)maxRunning,
            MaxRetries = (int)maxRetries,
            RetryBackoff = retryBackoff,
            Timeout = timeout,
            Enabled = enabled,
            Args = args,
            Kwargs = kwargs,
            Queue = queue,
            Priority = (int)priority,
            Headers = headers,
            Description = description,
        };
    }

    private CronSchedule? Schedule(string cron, string timeZone, FieldReader fields)
    {
        CronText.TryCreateSchedule(cron, timeZone, out var schedule, out var fieldErrors);
        foreach (var error in fieldErrors)
        {
            errors.Add(new ScheduleFileError(fields.PathOf(error.Field == "timezone" ? "timezone" : "cron"), error.Message));
        }

        return schedule;
    }

    private List<DependencySpec> ReadDependencies(JsonElement array, Dictionary<string, int> names)
    {
        var result = new List<DependencySpec>();
        var pairs = new Dictionary<(string, string), int>();
        var index = 0;
        foreach (var item in array.EnumerateArray())
        {
            var path = $"dependencies[{index}]";
            var fields = FieldReader.Open(item, path, DependencyFields, errors);
            if (fields is not null)
            {
                var before = errors.Count;
                var depender = KnownTask(fields, "depender", names);
                var dependee = KnownTask(fields, "dependee", names);
                var future = fields.Boolean("future_depends") ?? false;
                var condition = fields.Enum("condition", Conditions) ?? DependencyCondition.Success;
                if (depender is not null && dependee is not null)
                {
                    if (depender == dependee && !future && fields.IsValid("future_depends"))
                    {
                        errors.Add(new ScheduleFileError(path, $"'{depender}' depends on itself: a self-dependency needs future_depends: true"));
                    }

                    if (!pairs.TryAdd((depender, dependee), index))
                    {
                        errors.Add(new ScheduleFileError(path, $"duplicate dependency {depender} -> {dependee} (also dependencies[{pairs[(depender, dependee)]}])"));
                    }
                }

                if (errors.Count == before && depender is not null && dependee is not null)
                {
                    result.Add(new DependencySpec(depender, dependee, future, condition));
                }
            }

            index++;
        }

        if (DependencyGraph.FindCycle(result.Select(d => d.ToEdge())) is { } cycle)
        {
            errors.Add(new ScheduleFileError("dependencies", $"cycle {DependencyGraph.Render(cycle)}"));
        }

        return result;
    }

    private string? KnownTask(FieldReader fields, string field, Dictionary<string, int> names)
    {
        var name = fields.String(field, required: true);
        if (name is not null && !names.ContainsKey(name))
        {
            errors.Add(new ScheduleFileError(fields.PathOf(field), $"unknown task '{name}'"));
            return null;
        }

        return name;
    }

    private SimulateSpec? ReadSimulate(JsonElement element, string path, Dictionary<string, int> names)
    {
        var fields = FieldReader.Open(element, path, SimulateFields, errors);
        if (fields is null)
        {
            return null;
        }

        var from = fields.Instant("from");
        var to = fields.Instant("to");
        if (from is { } f && to is { } t && t <= f)
        {
            errors.Add(new ScheduleFileError(fields.PathOf("to"), $"must be after {fields.PathOf("from")}"));
        }

        var windows = new List<SimulationWindow>();
        if (fields.Optional("beat_down") is { } beatDown && fields.ExpectKind(beatDown, "beat_down", JsonValueKind.Array))
        {
            var index = 0;
            foreach (var item in beatDown.EnumerateArray())
            {
                var windowPath = $"{fields.PathOf("beat_down")}[{index++}]";
                if (FieldReader.Open(item, windowPath, WindowFields, errors) is { } window)
                {
                    var down = window.Instant("from", required: true);
                    var up = window.Instant("to", required: true);
                    if (down is { } d && up is { } u)
                    {
                        if (u <= d)
                        {
                            errors.Add(new ScheduleFileError(window.PathOf("to"), $"must be after {window.PathOf("from")}"));
                        }
                        else
                        {
                            windows.Add(new SimulationWindow(d, u));
                        }
                    }
                }
            }
        }

        var runs = new List<SimulatedRuns>();
        if (fields.Optional("runs") is { } runsElement && fields.ExpectKind(runsElement, "runs", JsonValueKind.Object))
        {
            foreach (var property in runsElement.EnumerateObject())
            {
                var runPath = $"{fields.PathOf("runs")}.{property.Name}";
                if (!names.ContainsKey(property.Name))
                {
                    errors.Add(new ScheduleFileError(runPath, $"unknown task '{property.Name}'"));
                    continue;
                }

                if (FieldReader.Open(property.Value, runPath, RunFields, errors) is { } run
                    && ReadRuns(property.Name, run) is { } simulated)
                {
                    runs.Add(simulated);
                }
            }
        }

        return new SimulateSpec(from, to, windows, runs);
    }

    private SimulatedRuns? ReadRuns(string task, FieldReader fields)
    {
        var duration = fields.Seconds("duration", 0) ?? Duration.Zero;
        var outcomes = new List<RunOutcome>();
        if (fields.Optional("outcomes") is { } element && fields.ExpectKind(element, "outcomes", JsonValueKind.Array))
        {
            var index = 0;
            foreach (var item in element.EnumerateArray())
            {
                var itemPath = $"{fields.PathOf("outcomes")}[{index++}]";
                if (FieldReader.EnumValue(item, itemPath, Outcomes, errors) is { } outcome)
                {
                    outcomes.Add(outcome);
                }
            }

            if (index == 0)
            {
                errors.Add(new ScheduleFileError(fields.PathOf("outcomes"), "must list at least one outcome (success or failure)"));
            }
        }
        else if (fields.IsValid("outcomes"))
        {
            outcomes.Add(RunOutcome.Success);
        }

        return fields.IsValid("duration") && fields.IsValid("outcomes") ? new SimulatedRuns(task, duration, outcomes) : null;
    }

    internal static readonly IReadOnlyDictionary<string, MisfirePolicy> Misfires = new Dictionary<string, MisfirePolicy>(StringComparer.Ordinal)
    {
        ["run_all"] = MisfirePolicy.RunAll,
        ["skip"] = MisfirePolicy.Skip,
        ["coalesce"] = MisfirePolicy.Coalesce,
    };

    internal static readonly IReadOnlyDictionary<string, DependencyCondition> Conditions = new Dictionary<string, DependencyCondition>(StringComparer.Ordinal)
    {
        ["success"] = DependencyCondition.Success,
        ["completion"] = DependencyCondition.Completion,
    };

    internal static readonly IReadOnlyDictionary<string, RunOutcome> Outcomes = new Dictionary<string, RunOutcome>(StringComparer.Ordinal)
    {
        ["success"] = RunOutcome.Success,
        ["failure"] = RunOutcome.Failure,
    };

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$", RegexOptions.CultureInvariant)]
    private static partial Regex QueuePattern();

    /// <summary>
    /// Typed access to the fields of one object. Each getter records its own error and returns null for a
    /// missing, null or invalid value; <see cref="IsValid"/> tells the two apart where a rule depends on it.
    /// </summary>
    private sealed class FieldReader
    {
        private readonly JsonElement _object;
        private readonly string _path;
        private readonly List<ScheduleFileError> _errors;
        private readonly HashSet<string> _invalid = new(StringComparer.Ordinal);

        private FieldReader(JsonElement obj, string path, List<ScheduleFileError> errors)
        {
            _object = obj;
            _path = path;
            _errors = errors;
        }

        public static FieldReader? Open(JsonElement element, string path, string[] allowed, List<ScheduleFileError> errors)
        {
            if (element.ValueKind != JsonValueKind.Object)
            {
                errors.Add(new ScheduleFileError(path, $"expected an object, found {JsonValues.KindName(element.ValueKind)}"));
                return null;
            }

            var reader = new FieldReader(element, path, errors);
            foreach (var property in element.EnumerateObject())
            {
                if (!allowed.Contains(property.Name, StringComparer.Ordinal))
                {
                    errors.Add(new ScheduleFileError(reader.PathOf(property.Name), $"unknown field '{property.Name}' (expected one of: {string.Join(", ", allowed)})"));
                }
            }

            return reader;
        }

        public static T? EnumValue<T>(JsonElement element, string path, IReadOnlyDictionary<string, T> values, List<ScheduleFileError> errors)
            where T : struct, Enum
        {
            if (element.ValueKind == JsonValueKind.String && values.TryGetValue(element.GetString()!, out var value))
            {
                return value;
            }

            var found = element.ValueKind == JsonValueKind.String ? $"'{element.GetString()}'" : JsonValues.KindName(element.ValueKind);
            errors.Add(new ScheduleFileError(path, $"{found} is not one of: {string.Join(", ", values.Keys)}"));
            return null;
        }

        public string PathOf(string field) => _path.Length == 0 ? field : $"{_path}.{field}";

        public bool IsValid(string field) => !_invalid.Contains(field);

        public JsonElement? Optional(string field) =>
            _object.TryGetProperty(field, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

        public JsonElement? Require(string field)
        {
            if (Optional(field) is { } value)
            {
                return value;
            }

            Fail(field, "required");
            return null;
        }

        public bool ExpectKind(JsonElement value, string field, JsonValueKind kind)
        {
            if (value.ValueKind == kind)
            {
                return true;
            }

            Fail(field, $"expected {JsonValues.KindName(kind)}, found {JsonValues.KindName(value.ValueKind)}");
            return false;
        }

        public string? String(string field, bool required = false)
        {
            var value = required ? Require(field) : Optional(field);
            return value is { } v && ExpectKind(v, field, JsonValueKind.String) ? v.GetString() : null;
        }

        /// <summary>A name: 1-200 characters without control characters or spaces at its ends.</summary>
        public string? Name(string field)
        {
            var value = String(field, required: true);
            if (value is null)
            {
                return null;
            }

            if (value.Length is 0 or > MaxNameLength)
            {
                Fail(field, $"must be 1-{MaxNameLength} characters long, found {value.Length}");
                return null;
            }

            if (value.Any(char.IsControl))
            {
                Fail(field, $"'{value.ReplaceLineEndings(" ")}' contains a control character");
                return null;
            }

            // As the write path: a name is looked up by its exact text, so invisible spaces at its ends would surprise.
            if (value != value.Trim())
            {
                Fail(field, $"'{value}' starts or ends with a space");
                return null;
            }

            return value;
        }

        public long? Integer(string field, long min, long max)
        {
            if (Optional(field) is not { } value || !ExpectKind(value, field, JsonValueKind.Number))
            {
                return null;
            }

            if (!value.TryGetInt64(out var number))
            {
                Fail(field, $"{value.GetRawText()} is not a whole number");
                return null;
            }

            if (number < min || number > max)
            {
                Fail(field, max >= int.MaxValue ? $"must be >= {min}, found {number}" : $"must be between {min} and {max}, found {number}");
                return null;
            }

            return number;
        }

        public Duration? Seconds(string field, long min) =>
            Integer(field, min, MaxSeconds) is { } seconds ? Duration.FromSeconds(seconds) : null;

        public bool? Boolean(string field)
        {
            if (Optional(field) is not { } value)
            {
                return null;
            }

            if (value.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                return value.GetBoolean();
            }

            Fail(field, $"expected true or false, found {JsonValues.KindName(value.ValueKind)}");
            return null;
        }

        public JsonElement? Json(string field, JsonValueKind kind)
        {
            if (Optional(field) is not { } value)
            {
                return null;
            }

            if (value.ValueKind != kind)
            {
                Fail(field, $"must be a JSON {(kind == JsonValueKind.Array ? "array" : "object")}, found {JsonValues.KindName(value.ValueKind)}");
                return null;
            }

            return value.Clone();
        }

        public Instant? Instant(string field, bool required = false)
        {
            var text = String(field, required);
            if (text is null)
            {
                return null;
            }

            if (IsoInstant.TryParse(text, out var instant))
            {
                return instant;
            }

            Fail(field, $"'{text}' is not {IsoInstant.Expected}, in the years 0001-9999");
            return null;
        }

        public T? Enum<T>(string field, IReadOnlyDictionary<string, T> values)
            where T : struct, Enum
        {
            if (Optional(field) is not { } value)
            {
                return null;
            }

            var before = _errors.Count;
            var result = EnumValue(value, PathOf(field), values, _errors);
            if (_errors.Count > before)
            {
                _invalid.Add(field);
            }

            return result;
        }

        private void Fail(string field, string message)
        {
            _invalid.Add(field);
            _errors.Add(new ScheduleFileError(PathOf(field), message));
        }
    }
}
