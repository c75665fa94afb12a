using System.Text.Json;
using Djag.Scheduling;
using Djag.Scheduling.ScheduleFiles;
using NodaTime;

namespace Djag.Cli.Tests.ScheduleFiles;

public sealed class ScheduleFileParseTests
{
    private static readonly Instant Now = Instant.FromUtc(2026, 3, 1, 12, 0);
    private static readonly ScheduleFileOptions Options = new();

    private static ScheduleDocument Valid(string text, ScheduleFileOptions? options = null)
    {
        var result = ScheduleFile.Parse(text, options ?? Options);
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Empty(result.Errors);
        return result.Document!;
    }

    private static IReadOnlyList<string> Errors(string text, ScheduleFileOptions? options = null)
    {
        var result = ScheduleFile.Parse(text, options ?? Options);
        Assert.Null(result.Document);
        Assert.False(result.IsValid);
        Assert.NotEmpty(result.Errors);
        return [.. result.Errors.Select(e => e.ToString())];
    }

    private static void HasError(IReadOnlyList<string> errors, string path, string fragment) =>
        Assert.Contains(errors, e => e.StartsWith(path + ": ", StringComparison.Ordinal) && e.Contains(fragment, StringComparison.Ordinal));

    [Fact]
    public void A_minimal_task_gets_every_default()
    {
        var document = Valid("""
            tasks:
              - name: extract
                task: etl.extract
                cron: "*/5 * * * *"
            """);

        var task = Assert.Single(document.Tasks);
        Assert.Equal("extract", task.Name);
        Assert.Equal("etl.extract", task.Task);
        Assert.Equal(new CronFields("0", "*/5", "*", "*", "*", "*"), task.Schedule.Fields);
        Assert.Equal("UTC", task.Schedule.TimeZoneId);
        Assert.Null(task.CronBase);
        Assert.Equal(MisfirePolicy.RunAll, task.Misfire);
        Assert.Null(task.GracePeriod);
        Assert.Null(task.MaxCatchup);
        Assert.Null(task.MaxRunning);
        Assert.Equal(0, task.MaxRetries);
        Assert.Null(task.RetryBackoff);
        Assert.Null(task.Timeout);
        Assert.True(task.Enabled);
        Assert.Equal("[]", task.Args.GetRawText());
        Assert.Equal("{}", task.Kwargs.GetRawText());
        Assert.Equal("default", task.Queue);
        Assert.Equal(0, task.Priority);
        Assert.Equal("{}", task.Headers.GetRawText());
        Assert.Equal("", task.Description);
        Assert.Empty(document.Dependencies);
        Assert.Null(document.Simulate);
    }

    [Fact]
    public void The_default_timezone_comes_from_the_caller()
    {
        var document = Valid("tasks: [{name: a, task: t, cron: '0 3 * * *'}]", new ScheduleFileOptions("Europe/Berlin"));

        Assert.Equal("Europe/Berlin", document.Tasks[0].Schedule.TimeZoneId);
    }

    [Fact]
    public void Every_field_is_read_into_typed_values()
    {
        var document = Valid("""
            tasks:
              - name: extract
                task: etl.extract
                cron: "15 */5 * * * *"
                timezone: Europe/Berlin
                cron_base: "2026-03-01T01:00:00+01:00"
                misfire: skip
                grace_period: 30
                max_catchup: 100
                max_running: 2
                max_retries: 3
                retry_backoff: 10
                timeout: 300
                enabled: false
                args: [1, "two", {three: 3}]
                kwargs: {program: /bin/echo, args: [hello]}
                queue: etl_fast-1
                priority: 255
                headers: {trace: "on"}
                description: |
                  Pulls the files.
              - name: load
                task: etl.load
                cron: "0 4 * * *"
                misfire: coalesce
                grace_period: 0
            dependencies:
              - depender: load
                dependee: extract
                future_depends: true
                condition: completion
            """);

        var task = document.Tasks[0];
        Assert.Equal(new CronFields("15", "*/5", "*", "*", "*", "*"), task.Schedule.Fields);
        Assert.Equal("Europe/Berlin", task.Schedule.TimeZoneId);
        Assert.Equal(Instant.FromUtc(2026, 3, 1, 0, 0), task.CronBase);
        Assert.Equal(MisfirePolicy.Skip, task.Misfire);
        Assert.Equal(Duration.FromSeconds(30), task.GracePeriod);
        Assert.Equal(100, task.MaxCatchup);
        Assert.Equal(2, task.MaxRunning);
        Assert.Equal(3, task.MaxRetries);
        Assert.Equal(Duration.FromSeconds(10), task.RetryBackoff);
        Assert.Equal(Duration.FromMinutes(5), task.Timeout);
        Assert.False(task.Enabled);
        Assert.Equal("""[1,"two",{"three":3}]""", task.Args.GetRawText());
        Assert.Equal("/bin/echo", task.Kwargs.GetProperty("program").GetString());
        Assert.Equal("hello", task.Kwargs.GetProperty("args")[0].GetString());
        Assert.Equal("etl_fast-1", task.Queue);
        Assert.Equal(255, task.Priority);
        Assert.Equal("on", task.Headers.GetProperty("trace").GetString());
        Assert.Equal("Pulls the files.\n", task.Description);
        Assert.Equal(MisfirePolicy.Coalesce, document.Tasks[1].Misfire);
        Assert.Equal(Duration.Zero, document.Tasks[1].GracePeriod);
        Assert.Equal(new DependencySpec("load", "extract", FutureDepends: true, DependencyCondition.Completion), Assert.Single(document.Dependencies));

        var definition = task.ToDefinition(Now);
        Assert.Equal(("extract", MisfirePolicy.Skip, Duration.FromSeconds(30), 100, 2), (definition.Name, definition.Misfire, definition.GracePeriod, definition.MaxCatchup, definition.MaxRunning));
    }

    [Fact]
    public void Json_input_is_detected_and_read()
    {
        const string json = """
            {
              "tasks": [
                { "name": "a", "task": "djag.echo", "cron": "0 * * * *", "kwargs": { "x": [1, 2] }, "misfire": "skip", "grace_period": 5 },
                { "name": "b", "task": "djag.echo", "cron": "0 * * * *" }
              ],
              "dependencies": [ { "depender": "b", "dependee": "a" } ]
            }
            """;

        Assert.Equal(ScheduleFileFormat.Json, ScheduleFile.DetectFormat(json));
        Assert.Equal(ScheduleFileFormat.Json, ScheduleFile.DetectFormat("tasks: []", "x.JSON"));
        Assert.Equal(ScheduleFileFormat.Yaml, ScheduleFile.DetectFormat("tasks: []", "x.yaml"));
        var document = Valid(json);
        Assert.Equal(["a", "b"], document.Tasks.Select(t => t.Name));
        Assert.Equal(2, document.Tasks[0].Kwargs.GetProperty("x").GetArrayLength());
        Assert.Equal(new DependencySpec("b", "a"), Assert.Single(document.Dependencies));
    }

    [Fact]
    public void Malformed_json_names_line_and_column()
    {
        var errors = Errors("{\n  \"tasks\": [\n    { \"name\" \"a\" }\n  ]\n}");

        var error = Assert.Single(errors);
        Assert.Contains("malformed JSON at line 3, column", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Duplicate_json_properties_are_rejected()
    {
        var error = Assert.Single(Errors("""{"tasks": [], "tasks": []}"""));

        Assert.Contains("Duplicate property 'tasks'", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("tasks:\n  - name: a\n    cron: [1, 2\n", "malformed YAML at line 4")]
    [InlineData("tasks:\n  - name: a\n    cron: */5 * * * *\n", "malformed YAML at line 3, column")]
    [InlineData("tasks:\n  - name: a\n    name: b\n", "Duplicate key")]
    [InlineData("tasks: []\n---\ntasks: []\n", "2 YAML documents")]
    [InlineData("", "the file is empty")]
    [InlineData("# nothing but a comment\n", "the file is empty")]
    public void Malformed_yaml_is_one_error_with_its_position(string text, string fragment)
    {
        var error = Assert.Single(Errors(text));

        Assert.Contains(fragment, error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_root_that_is_not_an_object_is_rejected()
    {
        Assert.Equal(["expected an object, found an array"], Errors("[1, 2]"));
        HasError(Errors("{}"), "tasks", "required");
        HasError(Errors("tasks: {name: a}"), "tasks", "expected an array, found an object");
    }

    [Fact]
    public void Unknown_fields_are_named_at_every_level()
    {
        var errors = Errors("""
            tasks:
              - name: a
                task: t
                cron: "0 * * * *"
                schedule: daily
                skip_misfire: true
            dependencies:
              - {depender: a, dependee: a, future_depends: true, future: true}
            simulate:
              form: "2026-03-29T00:00:00Z"
              runs:
                a: {duration: 1, outcome: success}
            extra: 1
            """);

        HasError(errors, "tasks[0].schedule", "unknown field 'schedule'");
        HasError(errors, "tasks[0].skip_misfire", "unknown field 'skip_misfire'");
        HasError(errors, "dependencies[0].future", "unknown field 'future'");
        HasError(errors, "simulate.form", "unknown field 'form'");
        HasError(errors, "simulate.runs.a.outcome", "unknown field 'outcome'");
        HasError(errors, "extra", "unknown field 'extra' (expected one of: tasks, dependencies, simulate)");
        Assert.Equal(6, errors.Count);
    }

    [Fact]
    public void Every_task_error_is_reported_at_once_with_its_path()
    {
        var errors = Errors("""
            tasks:
              - name: ok
                task: t
                cron: "0 * * * *"
              - name: ""
                task: t
                cron: "0 * * * *"
              - name: "bell\u0007"
                cron: "0 * * * *"
              - name: bad-cron
                task: t
                cron: "61 * * * *"
                timezone: Mars/Base
              - name: bad-skip
                task: t
                cron: "0 * * * *"
                misfire: skip
              - name: bad-coalesce
                task: t
                cron: "0 * * * *"
                misfire: coalesce
              - name: bad-enum
                task: t
                cron: "0 * * * *"
                misfire: sometimes
              - name: bad-numbers
                task: t
                cron: "0 * * * *"
                grace_period: -1
                max_catchup: 0
                max_running: 0
                max_retries: -1
                retry_backoff: -5
                timeout: 0
                priority: 256
              - name: bad-shapes
                task: 42
                cron: "0 * * * *"
                args: {a: 1}
                kwargs: [1]
                headers: "x"
                enabled: "yes"
                queue: "with space"
                cron_base: "2026-03-01T00:00:00"
                description: [1]
              - name: ok
                task: t
                cron: "1 2 3"
              - name: fractional
                task: t
                cron: "0 * * * *"
                grace_period: 1.5
            """);

        HasError(errors, "tasks[1].name", "must be 1-200 characters long, found 0");
        HasError(errors, "tasks[2].name", "contains a control character");
        HasError(errors, "tasks[2].task", "required");
        HasError(errors, "tasks[3].cron", "'61' is not a valid minute");
        HasError(errors, "tasks[3].timezone", "'Mars/Base' is not a known IANA time zone");
        HasError(errors, "tasks[4].grace_period", "required when misfire is skip");
        HasError(errors, "tasks[5].grace_period", "required when misfire is coalesce");
        HasError(errors, "tasks[6].misfire", "'sometimes' is not one of: run_all, skip, coalesce");
        HasError(errors, "tasks[7].grace_period", "must be >= 0, found -1");
        HasError(errors, "tasks[7].max_catchup", "must be >= 1, found 0");
        HasError(errors, "tasks[7].max_running", "must be >= 1, found 0");
        HasError(errors, "tasks[7].max_retries", "must be >= 0, found -1");
        HasError(errors, "tasks[7].retry_backoff", "must be >= 0, found -5");
        HasError(errors, "tasks[7].timeout", "must be >= 1, found 0");
        HasError(errors, "tasks[7].priority", "must be between 0 and 255, found 256");
        HasError(errors, "tasks[8].task", "expected a string, found a number");
        HasError(errors, "tasks[8].args", "must be a JSON array, found an object");
        HasError(errors, "tasks[8].kwargs", "must be a JSON object, found an array");
        HasError(errors, "tasks[8].headers", "must be a JSON object, found a string");
        HasError(errors, "tasks[8].enabled", "expected true or false, found a string");
        HasError(errors, "tasks[8].queue", "'with space' is not a valid queue");
        HasError(errors, "tasks[8].cron_base", "'2026-03-01T00:00:00' is not an ISO-8601 instant with an offset");
        HasError(errors, "tasks[8].description", "expected a string, found an array");
        HasError(errors, "tasks[9].name", "duplicate name 'ok' (also tasks[0])");
        HasError(errors, "tasks[9].cron", "has 3 fields");
        HasError(errors, "tasks[10].grace_period", "1.5 is not a whole number");
        Assert.Equal(26, errors.Count);
    }

    [Fact]
    public void A_long_name_is_rejected_and_200_characters_are_fine()
    {
        Valid($"tasks: [{{name: {new string('n', 200)}, task: t, cron: '0 * * * *'}}]");
        HasError(Errors($"tasks: [{{name: {new string('n', 201)}, task: t, cron: '0 * * * *'}}]"), "tasks[0].name", "found 201");
    }

    [Fact]
    public void Dependency_errors_name_the_edge()
    {
        var errors = Errors("""
            tasks:
              - {name: extract, task: t, cron: "0 * * * *"}
              - {name: transform, task: t, cron: "0 * * * *"}
              - {name: load, task: t, cron: "0 * * * *"}
            dependencies:
              - {depender: transform, dependee: extract}
              - {depender: load, dependee: lod}
              - {depender: extract, dependee: extract}
              - {depender: transform, dependee: extract, condition: completion}
              - {depender: load, dependee: transform, condition: always}
              - {dependee: load}
              - {depender: extract, dependee: load, future_depends: "no"}
            """);

        HasError(errors, "dependencies[1].dependee", "unknown task 'lod'");
        HasError(errors, "dependencies[2]", "'extract' depends on itself: a self-dependency needs future_depends: true");
        HasError(errors, "dependencies[3]", "duplicate dependency transform -> extract (also dependencies[0])");
        HasError(errors, "dependencies[4].condition", "'always' is not one of: success, completion");
        HasError(errors, "dependencies[5].depender", "required");
        HasError(errors, "dependencies[6].future_depends", "expected true or false, found a string");
        Assert.Equal(6, errors.Count);
    }

    [Fact]
    public void A_cycle_is_named()
    {
        var errors = Errors("""
            tasks:
              - {name: extract, task: t, cron: "0 * * * *"}
              - {name: transform, task: t, cron: "0 * * * *"}
              - {name: load, task: t, cron: "0 * * * *"}
            dependencies:
              - {depender: transform, dependee: extract}
              - {depender: load, dependee: transform}
              - {depender: transform, dependee: load}
            """);

        Assert.Equal(["dependencies: cycle load -> transform -> load"], errors);
    }

    [Fact]
    public void Future_edges_may_close_loops_and_self_dependencies_need_them()
    {
        var document = Valid("""
            tasks:
              - {name: cleanup, task: t, cron: "0 * * * *"}
              - {name: load, task: t, cron: "0 * * * *"}
            dependencies:
              - {depender: cleanup, dependee: cleanup, future_depends: true}
              - {depender: cleanup, dependee: load}
              - {depender: load, dependee: cleanup, future_depends: true}
            """);

        Assert.Equal(3, document.Dependencies.Count);
        Assert.Equal(new DependencyEdge("cleanup", "cleanup", FutureDepends: true, ChangedAt: 7), document.Edges(changedAt: 7)[0]);
    }

    [Fact]
    public void The_simulate_section_is_read()
    {
        var document = Valid("""
            tasks:
              - {name: extract, task: t, cron: "0 * * * *"}
              - {name: load, task: t, cron: "0 * * * *"}
            simulate:
              from: "2026-03-29T00:00:00Z"
              to: "2026-03-29T06:00:00+02:00"
              beat_down: [{from: "2026-03-29T01:00:00Z", to: "2026-03-29T02:00:00Z"}]
              runs:
                extract: {duration: 120, outcomes: [success, failure]}
                load: {duration: 5}
            """);

        var simulate = document.Simulate!;
        Assert.Equal(Instant.FromUtc(2026, 3, 29, 0, 0), simulate.From);
        Assert.Equal(Instant.FromUtc(2026, 3, 29, 4, 0), simulate.To);
        Assert.Equal(new SimulationWindow(Instant.FromUtc(2026, 3, 29, 1, 0), Instant.FromUtc(2026, 3, 29, 2, 0)), Assert.Single(simulate.BeatDown));
        Assert.Equal(new SimulatedRuns("extract", Duration.FromMinutes(2), [RunOutcome.Success, RunOutcome.Failure]), simulate.Runs[0]);
        Assert.Equal(new SimulatedRuns("load", Duration.FromSeconds(5), [RunOutcome.Success]), simulate.Runs[1]);
    }

    [Fact]
    public void Simulate_errors_name_their_paths()
    {
        var errors = Errors("""
            tasks:
              - {name: extract, task: t, cron: "0 * * * *"}
            simulate:
              from: "2026-03-29T06:00:00Z"
              to: "2026-03-29T00:00:00Z"
              beat_down:
                - {from: "2026-03-29T02:00:00Z", to: "2026-03-29T01:00:00Z"}
                - {from: "later"}
              runs:
                extract: {duration: -1, outcomes: [success, maybe]}
                lod: {duration: 1}
            """);

        HasError(errors, "simulate.to", "must be after simulate.from");
        HasError(errors, "simulate.beat_down[0].to", "must be after simulate.beat_down[0].from");
        HasError(errors, "simulate.beat_down[1].from", "'later' is not an ISO-8601 instant");
        HasError(errors, "simulate.beat_down[1].to", "required");
        HasError(errors, "simulate.runs.extract.duration", "must be >= 0, found -1");
        HasError(errors, "simulate.runs.extract.outcomes[1]", "'maybe' is not one of: success, failure");
        HasError(errors, "simulate.runs.lod", "unknown task 'lod'");
        Assert.Equal(7, errors.Count);
    }

    [Fact]
    public void Empty_outcomes_are_rejected()
    {
        HasError(
            Errors("tasks: [{name: a, task: t, cron: '0 * * * *'}]\nsimulate: {runs: {a: {outcomes: []}}}"),
            "simulate.runs.a.outcomes",
            "at least one outcome");
    }

    [Fact]
    public void Quoted_yaml_scalars_stay_strings()
    {
        var errors = Errors("tasks: [{name: a, task: t, cron: '0 * * * *', priority: '5', enabled: 'true'}]");

        HasError(errors, "tasks[0].priority", "expected a number, found a string");
        HasError(errors, "tasks[0].enabled", "expected true or false, found a string");
        Assert.Equal("123", Valid("tasks: [{name: '123', task: t, cron: '0 * * * *'}]").Tasks[0].Name);
        Assert.Equal("456", Valid("tasks: [{name: !!str 456, task: t, cron: '0 * * * *'}]").Tasks[0].Name);
    }

    [Fact]
    public void Null_values_mean_the_default()
    {
        var task = Valid("tasks: [{name: a, task: t, cron: '0 * * * *', description: , max_catchup: ~, args: null}]").Tasks[0];

        Assert.Equal("", task.Description);
        Assert.Null(task.MaxCatchup);
        Assert.Equal(JsonValueKind.Array, task.Args.ValueKind);
    }
}
