using System.Globalization;
using System.Text.Json.Nodes;
using CsCheck;

namespace Djag.Scheduling.Tests.ScheduleFiles;

/// <summary>
/// One task entry of a schedule file (also the body of POST /api/v1/tasks) made bad in one way, and where the
/// error must point. <see cref="Field"/> is relative to the entry ("cron", "args[1]"); an error at that path or
/// below it names the field. <see cref="Valid"/> entries must be accepted (e.g. a unicode or injection name).
/// </summary>
public sealed record BadTask(string Kind, JsonObject Entry, string Field, string? Says = null, bool Valid = false)
{
    /// <summary>Lone surrogates cannot live in a <see cref="JsonNode"/>: the entry holds <see cref="LoneSurrogateMarker"/>
    /// and the JSON text gets the escape in its place.</summary>
    public bool HasLoneSurrogate { get; init; }

    /// <summary>A number YAML's core schema cannot read as one (it is infinite as a double), so a YAML file holds the string.</summary>
    public bool YamlReadsAsString { get; init; }

    /// <summary>Nested deeper than a JSON reader allows: a whole-body error (no path) is acceptable too.</summary>
    public bool TooDeep { get; init; }

    public bool Names(string path) =>
        path == Field || path.StartsWith(Field + "[", StringComparison.Ordinal) || path.StartsWith(Field + ".", StringComparison.Ordinal)
        || (TooDeep && path.Length == 0);

    public string Json() => Render(Entry.ToJsonString());

    public string Render(string json) => HasLoneSurrogate ? json.Replace(LoneSurrogateMarker, "\\ud800", StringComparison.Ordinal) : json;

    public override string ToString() => $"{Kind} -> {Field}: {Json()[..Math.Min(600, Json().Length)]}";

    public const string LoneSurrogateMarker = "LONE-SURROGATE-HERE";
}

/// <summary>Generators of valid schedule-file content and of bad variants of it, shared by the parser and API property tests.</summary>
public static class BadInputGen
{
    /// <summary>Strings a user might type that must pass through verbatim: unicode, SQL and HTML injection, quotes.</summary>
    public static readonly string[] Nasty =
    [
        "extract",
        "Ünïcødé-名前-задача",
        "emoji 🚀🔥 task",
        "<script>alert('x')</script>",
        "<img src=x onerror=alert(1)>",
        "\"><svg onload=alert(1)>",
        "'; DROP TABLE djag.periodic_tasks; --",
        "Robert'); DELETE FROM djag.runs WHERE ('1'='1",
        "1 OR 1=1",
        "$(rm -rf /) `id`",
        "{{7*7}} ${jndi:ldap://x}",
        "%00%27%22",
        "back\\slash \"quoted\" 'single'",
        "\u202Eright-to-left\u202C",
        "zero\u200Bwidth",
        "ﷺ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ∑∞",
        "null",
        "true",
        "123",
        "- item",
        "key: value",
        "#comment",
        "&anchor *alias",
    ];

    private static readonly string[] Seconds = ["0", "*/15", "5,35", "0-10", "30"];
    private static readonly string[] Minutes = ["*", "*/5", "0", "15,45", "10-20/5"];
    private static readonly string[] Hours = ["*", "3", "*/2", "0-23/6", "9-17"];
    private static readonly string[] Days = ["*", "1", "15", "1-7", "*/2"];
    private static readonly string[] Months = ["*", "1", "JAN", "6-8", "*/3"];
    private static readonly string[] Weekdays = ["*", "MON-FRI", "0", "SUN,SAT", "1-5"];

    public static readonly string[] Zones = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Chatham"];

    /// <summary>Per position (second first): values no cron field at that position accepts, and the noun the error uses.</summary>
    private static readonly (string Noun, string[] Bad)[] BadCronFields =
    [
        ("second", ["60", "61", "-1", "x", "1-", "L", "5/", "99999999999"]),
        ("minute", ["60", "75", "-5", "abc", ",", "W", "1-2-3", "*/x"]),
        ("hour", ["24", "25", "-1", "noon", "1-", "L", "#1", "**"]),
        ("day of month", ["0", "32", "-1", "first", "1-", "1#2", "40-50"]),
        ("month", ["0", "13", "-1", "JANUARY", "1-", "L", "FOO"]),
        ("day of week", ["8", "9", "-1", "MONDAY", "1-", "W", "FOO", "1#9"]),
    ];

    private static readonly string[] UnknownZones = ["Mars/Olympus", "UTC+25", "Europe/Nowhere", "", " ", "../../etc/passwd", "Étoile/Nord", "utc ", "EST5EDT,M3.2.0,M11.1.0", "<script>", "'; DROP TABLE x; --"];

    private static readonly string[] UnknownFields = ["skip_misfire", "coalesce_misfire", "crontab", "schedule", "skip", "coalesce", "crn", "ñame", "<script>", "'; DROP TABLE x; --", "args ", "grace"];

    private static readonly (string Field, JsonNode? Value)[] WrongTypes =
    [
        ("name", 42), ("name", true), ("name", new JsonArray("a")), ("name", new JsonObject { ["a"] = 1 }),
        ("task", 1.5), ("task", new JsonArray()), ("cron", 5), ("cron", new JsonArray("*", "*", "*", "*", "*")),
        ("timezone", 1), ("timezone", false), ("cron_base", 1_700_000_000), ("misfire", 1), ("misfire", true),
        ("grace_period", "30"), ("grace_period", 1.5), ("grace_period", true), ("max_catchup", "many"), ("max_running", new JsonArray(1)),
        ("max_retries", 2.5), ("retry_backoff", "10s"), ("timeout", new JsonObject()), ("enabled", "yes"), ("enabled", 1),
        ("args", new JsonObject { ["a"] = 1 }), ("args", "[1, 2]"), ("args", 3), ("args", true),
        ("kwargs", new JsonArray(1)), ("kwargs", "{}"), ("kwargs", 0), ("headers", "x"), ("headers", new JsonArray()),
        ("queue", 7), ("priority", "high"), ("priority", 1e3), ("description", new JsonArray(1)), ("description", 12),
    ];

    private static readonly (string Field, JsonNode Value, string Says)[] OutOfRange =
    [
        ("priority", 256, "between 0 and 255"), ("priority", -1, "between 0 and 255"), ("grace_period", -1, ">= 0"),
        ("max_catchup", 0, ">= 1"), ("max_running", 0, ">= 1"), ("max_retries", -3, ">= 0"), ("retry_backoff", -1, ">= 0"),
        ("timeout", 0, ">= 1"), ("timeout", 3_000_000_000L, ">= 1"), ("queue", "a.b", "not a valid queue"), ("queue", "", "not a valid queue"),
        ("queue", new string('q', 65), "not a valid queue"), ("misfire", "sometimes", "run_all, skip, coalesce"),
        ("misfire", "skip,coalesce", "run_all, skip, coalesce"), ("misfire", "SKIP", "run_all, skip, coalesce"),
        ("cron_base", "yesterday", "ISO-8601"), ("cron_base", "2026-03-01T00:00:00", "ISO-8601"),
        ("cron_base", "-5000-01-01T00:00:00Z", "ISO-8601"), ("cron_base", "0000-12-31T22:00:00Z", "ISO-8601"),
        ("cron_base", "9999-12-31T23:00:00-05:00", "ISO-8601"),
    ];

    private static Gen<string> Pick(string[] values) => Gen.Int[0, values.Length - 1].Select(i => values[i]);

    /// <summary>An instant from 2000 to 2030 as the file writes it, in UTC or with an offset.</summary>
    private static readonly Gen<string> Instants = Gen.Select(Gen.Int[0, 946_080_000], Gen.Int[-12, 14], Gen.Bool, (seconds, hours, utc) =>
    {
        var at = new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero).AddSeconds(seconds);
        return utc ? at.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture) : at.ToOffset(TimeSpan.FromHours(hours)).ToString("yyyy-MM-ddTHH:mm:sszzz", CultureInfo.InvariantCulture);
    });

    public static readonly Gen<string> Cron = Gen.Select(
        Gen.Bool, Pick(Seconds), Pick(Minutes), Pick(Hours), Pick(Days), Pick(Months), Pick(Weekdays),
        (six, s, m, h, d, mo, w) => six ? $"{s} {m} {h} {d} {mo} {w}" : $"{m} {h} {d} {mo} {w}");

    /// <summary>Any JSON value within a small depth: strings from <see cref="Nasty"/>, numbers, booleans, null, arrays, objects.</summary>
    public static Gen<JsonNode?> Value(int depth) => depth == 0
        ? Gen.OneOf<JsonNode?>(Pick(Nasty).Select(s => (JsonNode?)s), Gen.Int[-1_000_000, 1_000_000].Select(i => (JsonNode?)i), Gen.Bool.Select(b => (JsonNode?)b), Gen.Const((JsonNode?)null))
        : Gen.Frequency<JsonNode?>(
            (4, Value(0)),
            (1, Value(depth - 1).Array[0, 3].Select(items => (JsonNode?)new JsonArray(items))),
            (1, Gen.Select(Pick(Nasty), Value(depth - 1)).Array[0, 3].Select(Object)));

    public static readonly Gen<JsonArray> Args = Value(2).Array[0, 4].Select(items => new JsonArray(items));

    public static readonly Gen<JsonObject> Kwargs = Gen.Select(Pick(Nasty), Value(2)).Array[0, 4].Select(pairs => (JsonObject)Object(pairs)!);

    private static JsonNode? Object((string Key, JsonNode? Value)[] pairs)
    {
        var obj = new JsonObject();
        foreach (var (key, value) in pairs)
        {
            obj[key] = value;
        }

        return obj;
    }

    /// <summary>A valid entry whose name is <c>{prefix}{index}</c>, with some of the optional fields set.</summary>
    public static Gen<JsonObject> Entry(int index) => Gen.Select(
        Gen.Select(Pick(Nasty), Pick(Nasty), Cron, Gen.Int[-1, Zones.Length - 1], Gen.Int[0, 3]),
        Gen.Select(Gen.Int[0, 2], Gen.Int[0, 86_400], Instants, Gen.Int[0, 255], Gen.Bool),
        Gen.Select(Args, Kwargs, Kwargs, Pick(Nasty), Gen.Int[0, 7]),
        (a, b, c) =>
        {
            var (prefix, task, cron, zone, optional) = a;
            var (misfire, grace, cronBase, priority, enabled) = b;
            var (args, kwargs, headers, description, extras) = c;
            var entry = new JsonObject { ["name"] = $"{prefix} {index}", ["task"] = task, ["cron"] = cron };
            if (zone >= 0)
            {
                entry["timezone"] = Zones[zone];
            }

            if (misfire > 0)
            {
                entry["misfire"] = misfire == 1 ? "skip" : "coalesce";
                entry["grace_period"] = grace;
            }

            if ((optional & 1) != 0)
            {
                entry["cron_base"] = cronBase;
                entry["priority"] = priority;
                entry["enabled"] = enabled;
            }

            if ((optional & 2) != 0)
            {
                entry["args"] = args;
                entry["kwargs"] = kwargs;
                entry["headers"] = headers;
                entry["description"] = description;
            }

            if ((extras & 1) != 0)
            {
                entry["max_catchup"] = 1 + (grace % 50);
                entry["max_running"] = 1 + (priority % 4);
            }

            if ((extras & 2) != 0)
            {
                entry["max_retries"] = priority % 5;
                entry["retry_backoff"] = grace % 600;
                entry["timeout"] = 1 + grace;
            }

            if ((extras & 4) != 0)
            {
                entry["queue"] = priority % 2 == 0 ? "bulk" : "etl_fast-1";
            }

            return entry;
        });

    /// <summary>A valid file: 1-6 tasks and acyclic dependencies (later tasks wait on earlier ones; future edges anywhere).</summary>
    public static readonly Gen<JsonObject> Document = Gen.Int[1, 6].SelectMany(count =>
        Gen.Select(Sequence(Enumerable.Range(0, count).Select(Entry).ToArray()), Gen.Int[0, 9].Array[count * count], Assemble));

    private static Gen<T[]> Sequence<T>(Gen<T>[] gens) =>
        gens.Length == 0 ? Gen.Const(Array.Empty<T>()) : gens[0].SelectMany(first => Sequence(gens[1..]).Select(rest => (T[])[first, .. rest]));

    private static JsonObject Assemble(JsonObject[] entries, int[] links)
    {
        var dependencies = new JsonArray();
        var count = entries.Length;
        for (var i = 0; i < count; i++)
        {
            for (var j = 0; j < count; j++)
            {
                var link = links[(i * count) + j];
                var (depender, dependee) = ((string)entries[i]["name"]!, (string)entries[j]["name"]!);
                if (link == 9)
                {
                    dependencies.Add(new JsonObject { ["depender"] = depender, ["dependee"] = dependee, ["future_depends"] = true });
                }
                else if (link >= 7 && i > j)
                {
                    dependencies.Add(new JsonObject { ["depender"] = depender, ["dependee"] = dependee, ["condition"] = link == 8 ? "completion" : "success" });
                }
            }
        }

        var document = new JsonObject { ["tasks"] = new JsonArray([.. entries]) };
        if (dependencies.Count > 0)
        {
            document["dependencies"] = dependencies;
        }

        return document;
    }

    private static readonly char[] Controls = ['\0', '\u0001', '\u0007', '\b', '\t', '\n', '\r', '\u001B', '\u007F', '\u0085', '\u009F'];

    /// <summary>Random names: mostly printable unicode, sometimes a control character, spaces at the ends, or too long.</summary>
    private static readonly Gen<string> RandomNames = Gen.Frequency(
        (4, Gen.String[Gen.Char['\u0020', '\u2FFF'], 1, 40]),
        (1, Gen.Select(Gen.String[Gen.Char['a', 'z'], 0, 10], Gen.Int[0, Controls.Length - 1], Gen.String[Gen.Char['a', 'z'], 0, 10], (a, c, b) => a + Controls[c] + b)),
        (1, Gen.Select(Gen.String[Gen.Char['a', 'z'], 1, 10], Gen.Bool, (a, front) => front ? " " + a : a + " ")),
        (1, Gen.Int[150, 400].Select(n => new string('n', n))));

    /// <summary>Is <paramref name="name"/> one the parser and the write path accept?</summary>
    public static bool IsValidName(string name) =>
        name.Length is >= 1 and <= 200 && !name.Any(char.IsControl) && name == name.Trim() && !name.Any(char.IsSurrogate);

    /// <summary>A valid entry made bad in one way (or, for a few kinds, still valid and to be stored verbatim).</summary>
    public static readonly Gen<BadTask> BadTasks = Entry(0).SelectMany(entry => Gen.Int[0, 19].SelectMany(kind => kind switch
    {
        0 => Gen.Int[0, WrongTypes.Length - 1].Select(i => Set(entry, "wrong type", WrongTypes[i].Field, WrongTypes[i].Value?.DeepClone())),
        1 => Gen.Select(Gen.Int[0, 5], Gen.Int[0, 8], (position, which) =>
        {
            var (noun, bad) = BadCronFields[position];
            var fields = new[] { "0", "*", "*", "*", "*", "*" };
            fields[position] = bad[which % bad.Length];
            return Set(entry, $"bad {noun}", "cron", string.Join(' ', fields)) with { Says = noun };
        }),
        2 => Pick(UnknownZones).Select(zone => Set(entry, "unknown time zone", "timezone", zone) with { Says = "time zone" }),
        3 => Pick(UnknownFields).Select(field => Set(entry, "unknown field", field, 1) with { Says = "unknown field" }),
        4 => Gen.Int[0, 3].Select(variant => variant switch
        {
            0 => Set(entry, "skip and coalesce", "misfire", new JsonArray("skip", "coalesce")),
            1 => Set(entry, "skip and coalesce", "misfire", "skip+coalesce"),
            2 => Set(Set(entry, "", "skip_misfire", true).Entry, "skip and coalesce", "skip_misfire", true) with { Says = "unknown field" },
            _ => Set(Set(entry, "", "misfire", "skip").Entry, "skip and coalesce", "coalesce", true) with { Says = "unknown field" },
        }),
        5 => Gen.Bool.Select(skip => Remove(Set(entry, "", "misfire", skip ? "skip" : "coalesce").Entry, "missing grace", "grace_period") with { Says = "required when misfire is" }),
        6 => Gen.OneOf<JsonNode>(new JsonObject { ["0"] = "a" }, "a b c", 1, false).Select(v => Set(entry, "args not an array", "args", v.DeepClone())),
        7 => Gen.Int[65, 400].Select(depth => Set(entry, "deep nesting", "args", Nest(depth)) with { TooDeep = true }),
        8 => Gen.Int[201, 5000].Select(n => Set(entry, "huge name", "name", new string('x', n)) with { Says = "characters long" }),
        9 => Gen.Int[100_000, 300_000].Select(n => Set(entry, "huge description", "description", new string('d', n)) with { Valid = true }),
        10 => RandomNames.Select(name => Set(entry, "random name", "name", name) with { Valid = IsValidName(name) }),
        11 => Gen.Int[0, 3].Select(where => where switch
        {
            0 => Set(entry, "NUL in text", "description", "before\0after"),
            1 => Set(entry, "NUL in text", "args", new JsonArray("ok", "a\0b")),
            2 => Set(entry, "NUL in text", "kwargs", new JsonObject { ["k"] = new JsonArray(new JsonObject { ["x"] = "\0" }) }),
            _ => Set(entry, "NUL in text", "headers", new JsonObject { ["a\0b"] = "v" }),
        } with { Says = "NUL" }),
        12 => Gen.Int[0, 2].Select(where => where switch
        {
            0 => Set(entry, "lone surrogate", "description", "x" + BadTask.LoneSurrogateMarker),
            1 => Set(entry, "lone surrogate", "args", new JsonArray(BadTask.LoneSurrogateMarker)),
            _ => Set(entry, "lone surrogate", "kwargs", new JsonObject { ["k"] = BadTask.LoneSurrogateMarker }),
        } with { HasLoneSurrogate = true }),
        13 => Gen.Int[0, 2].Select(which => Set(entry, "number out of range", "args", new JsonArray(1, JsonNode.Parse(which switch
        {
            0 => "1e5000",
            1 => "-1e-5000",
            _ => new string('9', 1200),
        }))) with { Says = "number", YamlReadsAsString = true }),
        14 => Gen.Int[0, OutOfRange.Length - 1].Select(i => Set(entry, "out of range", OutOfRange[i].Field, OutOfRange[i].Value.DeepClone()) with { Says = OutOfRange[i].Says }),
        15 => Gen.Int[101, 300].Select(n => Set(entry, "long cron field", "cron", $"{string.Join(',', Enumerable.Repeat("1", n))} * * * *") with { Says = "at most 200" }),
        16 => Pick(["name", "task", "cron"]).Select(field => Remove(entry, "missing required field", field) with { Says = "required" }),
        17 => Gen.Select(Pick(Nasty), Pick(Nasty), (name, text) =>
        {
            var e = (JsonObject)entry.DeepClone();
            e["name"] = name;
            e["task"] = name;
            e["description"] = text;
            e["args"] = new JsonArray(name, text);
            e["kwargs"] = new JsonObject { [name] = text };
            return new BadTask("injection strings stored verbatim", e, "", Valid: true);
        }),
        18 => Gen.Select(Gen.Int[0, 5], Gen.Int[201, 400], (position, n) =>
        {
            var fields = new[] { "0", "*", "*", "*", "*", "*" };
            fields[position] = string.Join(',', Enumerable.Repeat("1", (n + 1) / 2));
            return Set(entry, "long cron field", "cron", string.Join(' ', fields)) with { Says = "at most 200" };
        }),
        _ => Gen.Int[2, 40].Select(n => Set(entry, "wrong cron field count", "cron", string.Join(' ', Enumerable.Repeat("*", n == 5 || n == 6 ? 7 : n))) with { Says = "expected 5" }),
    }));

    private static JsonArray Nest(int depth)
    {
        JsonNode inner = 1;
        for (var i = 0; i < depth; i++)
        {
            inner = new JsonArray(inner);
        }

        return (JsonArray)inner;
    }

    private static BadTask Set(JsonObject entry, string kind, string field, JsonNode? value)
    {
        var copy = (JsonObject)entry.DeepClone();
        copy[field] = value;
        return new BadTask(kind, copy, field);
    }

    private static BadTask Remove(JsonObject entry, string kind, string field)
    {
        var copy = (JsonObject)entry.DeepClone();
        copy.Remove(field);
        return new BadTask(kind, copy, field);
    }

    /// <summary>
    /// Tasks t0..t{n-1} (n ≥ length) and dependencies closing the cycle t0 → t1 → … → t{length-1} → t0 (a self-dependency for length 1),
    /// in an order shuffled by <paramref name="seed"/>, with acyclic extra edges.
    /// </summary>
    public static JsonObject Cycle(int length, int seed)
    {
        var random = new Random(seed);
        var count = length + random.Next(0, 3);
        var tasks = new JsonArray();
        for (var i = 0; i < count; i++)
        {
            tasks.Add(new JsonObject { ["name"] = $"t{i}", ["task"] = "djag.echo", ["cron"] = "*/5 * * * *" });
        }

        var edges = new List<JsonObject>();
        for (var i = 0; i < length; i++)
        {
            edges.Add(new JsonObject { ["depender"] = $"t{i}", ["dependee"] = $"t{(i + 1) % length}" });
        }

        for (var i = length; i < count; i++)
        {
            edges.Add(new JsonObject { ["depender"] = $"t{i}", ["dependee"] = $"t{random.Next(0, length)}" });
        }

        return new JsonObject { ["tasks"] = tasks, ["dependencies"] = new JsonArray([.. edges.OrderBy(_ => random.Next())]) };
    }
}
