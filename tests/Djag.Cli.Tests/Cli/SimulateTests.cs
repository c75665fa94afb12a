using System.Text.Json;

namespace Djag.Cli.Tests.Cli;

public sealed class SimulateTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("djag-cli-tests-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private sealed record Line(string At, string Task, string Cron, string Kind, string? Outcome, string? Reason);

    private static async Task<IReadOnlyList<Line>> Simulate(params string[] args)
    {
        var run = await DjagRunner.Run(["simulate", .. args, "--format", "jsonl"]);
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Equal("", run.Error);
        var lines = run.Lines.Select(Parse).ToList();
        Assert.Equal(lines.Select(l => l.At).Order(StringComparer.Ordinal), lines.Select(l => l.At));
        return lines;
    }

    private static Line Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var line = new Line(
            root.GetProperty("at").GetString()!,
            root.GetProperty("task").GetString()!,
            root.GetProperty("cron").GetString()!,
            root.GetProperty("kind").GetString()!,
            root.TryGetProperty("outcome", out var outcome) ? outcome.GetString() : null,
            root.TryGetProperty("reason", out var reason) ? reason.GetString() : null);
        Assert.Equal(line.Kind == "finished", line.Outcome is not null);
        if (line.Kind is "waiting" or "skipped" or "coalesced")
        {
            Assert.False(string.IsNullOrEmpty(line.Reason));
        }

        return line;
    }

    private static IEnumerable<Line> Of(IEnumerable<Line> lines, string task, string kind) =>
        lines.Where(l => l.Task == task && l.Kind == kind);

    private string File(string name, string text)
    {
        var path = Path.Combine(_directory, name);
        System.IO.File.WriteAllText(path, text);
        return path;
    }

    //  00:15 extract  |==2m==|
    //        transform       |=====5m=====|
    //        load                         |=1m=|
    //        (each depender dispatches at the instant its dependee finishes)
    [Fact]
    public async Task Chain_dispatches_each_depender_when_its_dependee_finishes()
    {
        var lines = await Simulate(DjagRunner.Example("chain.yaml"));

        var first = lines.Where(l => l.Cron == "2026-03-02T00:15:00Z").Select(l => (l.At, l.Task, l.Kind)).ToList();
        Assert.Equal(
            [
                ("2026-03-02T00:15:00Z", "extract", "dispatched"),
                ("2026-03-02T00:15:00Z", "load", "waiting"),
                ("2026-03-02T00:15:00Z", "transform", "waiting"),
                ("2026-03-02T00:17:00Z", "extract", "finished"),
                ("2026-03-02T00:17:00Z", "transform", "dispatched"),
                ("2026-03-02T00:22:00Z", "transform", "finished"),
                ("2026-03-02T00:22:00Z", "load", "dispatched"),
                ("2026-03-02T00:23:00Z", "load", "finished"),
            ],
            first);
        foreach (var (depender, dependee) in new[] { ("transform", "extract"), ("load", "transform") })
        {
            var dispatched = Of(lines, depender, "dispatched").Select(l => (l.Cron, l.At)).ToList();
            var finished = Of(lines, dependee, "finished").Select(l => (l.Cron, l.At)).ToList();
            Assert.Equal(["2026-03-02T00:15:00Z", "2026-03-02T00:30:00Z", "2026-03-02T00:45:00Z"], dispatched.Select(d => d.Cron));
            Assert.Equal(finished, dispatched);
        }
    }

    // beat down 00:12 ---------------- 00:32 (events 00:15 00:20 00:25 00:30 missed; grace 60 s)
    [Fact]
    public async Task Downtime_shows_skipped_coalesced_and_caught_up_events()
    {
        var lines = await Simulate(DjagRunner.Example("downtime.yaml"));
        string[] missed = ["2026-03-02T00:15:00Z", "2026-03-02T00:20:00Z", "2026-03-02T00:25:00Z", "2026-03-02T00:30:00Z"];
        const string back = "2026-03-02T00:32:00Z";

        var skipped = Of(lines, "poll_skip", "skipped").ToList();
        Assert.Equal(missed, skipped.Select(l => l.Cron));
        Assert.All(skipped, l => Assert.Equal(back, l.At));
        Assert.Contains("late by 120 s, grace 60 s", skipped[^1].Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(Of(lines, "poll_skip", "dispatched"), l => missed.Contains(l.Cron));

        Assert.Equal(missed[..3], Of(lines, "poll_coalesce", "coalesced").Select(l => l.Cron));
        Assert.Contains(Of(lines, "poll_coalesce", "dispatched"), l => l.Cron == missed[3] && l.At == back);

        Assert.Equal(missed, Of(lines, "poll_run_all", "dispatched").Where(l => l.At == back).Select(l => l.Cron));
        Assert.DoesNotContain(lines, l => l.Task == "poll_run_all" && l.Kind is "skipped" or "coalesced");

        foreach (var task in new[] { "poll_skip", "poll_coalesce", "poll_run_all" })
        {
            Assert.Equal(
                ["2026-03-02T00:05:00Z", "2026-03-02T00:10:00Z", "2026-03-02T00:35:00Z", "2026-03-02T00:40:00Z"],
                Of(lines, task, "dispatched").Where(l => !missed.Contains(l.Cron)).Select(l => l.Cron));
        }
    }

    // Europe/Berlin 2026-03-29: 02:00 CET (01:00Z) jumps to 03:00 CEST.
    //   fixed 02:30 -> 03:00 CEST = 01:00Z once | hourly: 00:00Z (01:00 CET), 01:00Z (03:00 CEST), 02:00Z
    [Fact]
    public async Task Dst_spring_forward_fires_the_gap_once()
    {
        var lines = await Simulate(DjagRunner.Example("dst.yaml"));

        Assert.Equal(["2026-03-29T01:00:00Z"], Of(lines, "fixed_0230", "dispatched").Select(l => l.Cron));
        Assert.Equal(
            ["2026-03-28T22:00:00Z", "2026-03-28T23:00:00Z", "2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z", "2026-03-29T03:00:00Z"],
            Of(lines, "hourly", "dispatched").Select(l => l.Cron));
    }

    // Europe/Berlin 2026-10-25: 03:00 CEST (01:00Z) goes back to 02:00 CET.
    //   fixed 02:30: first pass only (00:30Z) | hourly: 02:00 CEST (00:00Z) and 02:00 CET (01:00Z)
    [Fact]
    public async Task Dst_fall_back_fires_a_fixed_time_once_and_the_hourly_task_in_both_passes()
    {
        var lines = await Simulate(DjagRunner.Example("dst.yaml"), "--from", "2026-10-24T21:00:00Z", "--to", "2026-10-25T04:00:00Z");

        Assert.Equal(["2026-10-25T00:30:00Z"], Of(lines, "fixed_0230", "dispatched").Select(l => l.Cron));
        Assert.Equal(
            ["2026-10-24T22:00:00Z", "2026-10-24T23:00:00Z", "2026-10-25T00:00:00Z", "2026-10-25T01:00:00Z", "2026-10-25T02:00:00Z", "2026-10-25T03:00:00Z"],
            Of(lines, "hourly", "dispatched").Select(l => l.Cron));
    }

    [Fact]
    public async Task The_etl_sample_exercises_every_feature()
    {
        var lines = await Simulate(DjagRunner.Example("etl.yaml"));

        foreach (var task in new[] { "extract", "transform", "load", "audit", "report", "cleanup", "heartbeat_skip", "digest_coalesce", "hello" })
        {
            Assert.NotEmpty(Of(lines, task, "dispatched"));
        }

        Assert.NotEmpty(Of(lines, "heartbeat_skip", "skipped"));
        Assert.NotEmpty(Of(lines, "cleanup", "waiting"));

        // The future self-dependency: a cleanup run never starts before the previous one finished.
        var cleanup = lines.Where(l => l.Task == "cleanup" && l.Kind is "dispatched" or "finished").Select(l => l.Kind).ToList();
        Assert.Equal(cleanup.Count / 2, cleanup.Where((kind, i) => i % 2 == 1).Count(kind => kind == "finished"));
        Assert.All(cleanup.Where((_, i) => i % 2 == 0), kind => Assert.Equal("dispatched", kind));

        // report waits for both of its dependees.
        var report = Assert.Single(Of(lines, "report", "dispatched"));
        Assert.Contains(Of(lines, "load", "finished"), l => string.CompareOrdinal(l.At, report.At) <= 0);
        Assert.Contains(Of(lines, "audit", "finished"), l => string.CompareOrdinal(l.At, report.At) <= 0);
    }

    [Fact]
    public async Task Outcomes_repeat_in_turn_and_a_failure_releases_no_depender()
    {
        var path = File("outcomes.yaml", """
            tasks:
              - {name: a, task: t, cron: "*/10 * * * *"}
              - {name: b, task: t, cron: "*/10 * * * *"}
            dependencies:
              - {depender: b, dependee: a}
            simulate:
              from: "2026-03-02T00:00:00Z"
              to: "2026-03-02T00:35:00Z"
              runs:
                a: {duration: 60, outcomes: [success, failure]}
            """);

        var lines = await Simulate(path);

        Assert.Equal(["success", "failure", "success"], Of(lines, "a", "finished").Select(l => l.Outcome));
        Assert.All(Of(lines, "b", "finished"), l => Assert.Equal("success", l.Outcome));
        Assert.Equal(["2026-03-02T00:11:00Z", "2026-03-02T00:31:00Z"], Of(lines, "b", "dispatched").Select(l => l.At));
    }

    [Fact]
    public async Task A_disabled_dependee_keeps_its_depender_waiting()
    {
        var path = File("disabled.json", """
            {
              "tasks": [
                { "name": "a", "task": "t", "cron": "*/10 * * * *", "enabled": false },
                { "name": "b", "task": "t", "cron": "*/10 * * * *" }
              ],
              "dependencies": [ { "depender": "b", "dependee": "a" } ]
            }
            """);

        var lines = await Simulate(path, "--from", "2026-03-02T00:00:00Z", "--to", "2026-03-02T00:30:00Z");

        Assert.DoesNotContain(lines, l => l.Task == "a" || l.Kind == "dispatched");
        Assert.Contains(lines, l => l.Task == "b" && l.Kind == "waiting" && l.Reason!.Contains("b -> a", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Flags_override_the_file_range()
    {
        var lines = await Simulate(DjagRunner.Example("chain.yaml"), "--from", "2026-03-02T00:20:00Z", "--to", "2026-03-02T00:31:00Z");

        Assert.Equal(["2026-03-02T00:30:00Z"], Of(lines, "extract", "dispatched").Select(l => l.Cron));
        Assert.All(lines, l => Assert.InRange(string.CompareOrdinal(l.At, "2026-03-02T00:31:00Z"), int.MinValue, -1));
    }

    [Fact]
    public async Task The_table_has_a_header_and_aligned_columns()
    {
        var run = await DjagRunner.Run("simulate", DjagRunner.Example("chain.yaml"));

        Assert.Equal(0, run.ExitCode);
        var lines = run.Lines;
        Assert.Matches(@"^AT\s+TASK\s+CRON\s+KIND\s+OUTCOME\s+REASON$", lines[0]);
        var taskColumn = lines[0].IndexOf("TASK", StringComparison.Ordinal);
        var kindColumn = lines[0].IndexOf("KIND", StringComparison.Ordinal);
        Assert.All(lines.Skip(1), l => Assert.NotEqual(' ', l[taskColumn]));
        Assert.Contains(lines, l => l[kindColumn..].StartsWith("finished    success", StringComparison.Ordinal));
        Assert.Equal(25, lines.Length);
    }

    [Fact]
    public async Task A_bad_file_exits_2_and_names_every_path()
    {
        var path = File("bad.yaml", """
            tasks:
              - {name: load, task: t, cron: "61 * * * *"}
              - {name: extract, task: t, cron: "0 * * * *", timezone: Mars/Base}
            dependencies:
              - {depender: load, dependee: lod}
            """);

        var run = await DjagRunner.Run("simulate", path, "--from", "2026-03-02T00:00:00Z", "--to", "2026-03-02T01:00:00Z");

        Assert.Equal(2, run.ExitCode);
        Assert.Equal("", run.Out);
        var errors = run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, errors.Length);
        Assert.StartsWith($"error: {path}: tasks[0].cron: minute: '61' is not a valid minute", errors[0], StringComparison.Ordinal);
        Assert.Equal($"error: {path}: tasks[1].timezone: 'Mars/Base' is not a known IANA time zone", errors[1]);
        Assert.Equal($"error: {path}: dependencies[0].dependee: unknown task 'lod'", errors[2]);
    }

    [Fact]
    public async Task Malformed_yaml_exits_2_with_line_and_column()
    {
        var path = File("malformed.yaml", "tasks:\n  - name: a\n    cron: [1\n");

        var run = await DjagRunner.Run("simulate", path);

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith($"error: {path}: malformed YAML at line ", run.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("no-range.yaml", new string[0], "error: no start: pass --from or set simulate.from in ")]
    [InlineData("no-range.yaml", new[] { "--from", "2026-03-02T00:00:00Z" }, "error: no end: pass --to or set simulate.to in ")]
    [InlineData("no-range.yaml", new[] { "--from", "2026-03-02T01:00:00Z", "--to", "2026-03-02T00:00:00Z" }, "error: the range is empty")]
    [InlineData("no-range.yaml", new[] { "--to", "tomorrow" }, "error: --to: 'tomorrow' is not an ISO-8601 instant")]
    [InlineData("no-range.yaml", new[] { "--format", "xml" }, "error: ")]
    [InlineData("missing.yaml", new string[0], "error: ")]
    public async Task Bad_arguments_exit_2(string file, string[] args, string expected)
    {
        var path = file == "missing.yaml"
            ? Path.Combine(_directory, file)
            : File(file, "tasks: [{name: a, task: t, cron: '0 * * * *'}]");

        var run = await DjagRunner.Run(["simulate", path, .. args]);

        Assert.Equal(2, run.ExitCode);
        Assert.Equal("", run.Out);
        Assert.StartsWith(expected, run.Error, StringComparison.Ordinal);
        if (file == "missing.yaml")
        {
            Assert.Contains($"{path}: no such file", run.Error, StringComparison.Ordinal);
        }
    }
}
