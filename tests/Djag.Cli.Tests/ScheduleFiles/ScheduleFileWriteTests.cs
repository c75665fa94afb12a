using Djag.Scheduling;
using Djag.Scheduling.ScheduleFiles;

namespace Djag.Cli.Tests.ScheduleFiles;

public sealed class ScheduleFileWriteTests
{
    // A different "now" and default zone on the way back prove the writer spells out what they would default.
    private static readonly ScheduleFileOptions First = new();
    private static readonly ScheduleFileOptions Second = new("Asia/Tokyo");

    private const string Full = """
        tasks:
          - name: extract
            task: etl.extract
            cron: "*/5 * * * *"
            timezone: Europe/Berlin
            misfire: skip
            grace_period: 30
            max_catchup: 100
            max_running: 1
            max_retries: 2
            retry_backoff: 10
            timeout: 300
            enabled: false
            args: [1, "2", true, null, 1.5, {a: [x, "y z"]}, "*", "", "true", "#hash", "multi\nline"]
            kwargs: {program: /bin/echo, args: ["hello, world"], "key: colon": "{braces}"}
            queue: etl-1
            priority: 7
            headers: {trace: "on", n: 0, "no": "No", off: "Y"}
            description: |
              two
              lines
          - name: "true"
            task: "123"
            cron: "30 15 2 * * MON-FRI"
            misfire: coalesce
            grace_period: 0
          - name: "- dash"
            task: "t"
            cron: "0 0 1 1 *"
        dependencies:
          - {depender: "true", dependee: extract, future_depends: true, condition: completion}
          - {depender: "- dash", dependee: "true"}
          - {depender: extract, dependee: extract, future_depends: true}
        simulate:
          from: "2026-03-29T00:00:00Z"
          to: "2026-03-29T06:00:00.5Z"
          beat_down: [{from: "2026-03-29T01:00:00Z", to: "2026-03-29T02:00:00Z"}]
          runs:
            extract: {duration: 120, outcomes: [success, failure]}
            "true": {duration: 0}
        """;

    [Fact]
    public void Yaml_written_then_parsed_is_the_same_document()
    {
        var document = Parse(Full, First);

        var yaml = ScheduleFile.ToYaml(document);
        var again = Parse(yaml, Second);

        Assert.Equal(document, again);
        Assert.Equal(yaml, ScheduleFile.ToYaml(again));
    }

    [Fact]
    public void Json_written_then_parsed_is_the_same_document()
    {
        var document = Parse(Full, First);

        var json = ScheduleFile.ToJson(document);
        Assert.Equal(ScheduleFileFormat.Json, ScheduleFile.DetectFormat(json));
        var again = Parse(json, Second);

        Assert.Equal(document, again);
        Assert.Equal(document, Parse(ScheduleFile.ToYaml(again), Second));
    }

    [Fact]
    public void The_writer_spells_out_the_timezone_and_omits_defaults_and_an_unset_cron_base()
    {
        var document = Parse("tasks: [{name: a, task: t, cron: '0 3 * * *'}]", First);

        Assert.Equal(
            """
            tasks:
            - name: a
              task: t
              cron: 0 3 * * *
              timezone: UTC

            """,
            ScheduleFile.ToYaml(document));
    }

    [Fact]
    public void Strings_that_would_read_back_as_other_values_are_quoted()
    {
        var yaml = ScheduleFile.ToYaml(Parse(Full, First));

        Assert.Contains("- name: \"true\"", yaml, StringComparison.Ordinal);
        Assert.Contains("task: \"123\"", yaml, StringComparison.Ordinal);
        Assert.Contains("cron: '*/5 * * * *'", yaml, StringComparison.Ordinal);
        Assert.Contains("headers: {trace: \"on\", \"n\": 0, \"no\": \"No\", \"off\": \"Y\"}", yaml, StringComparison.Ordinal);
    }

    [Fact]
    public void Documents_that_differ_anywhere_are_not_equal()
    {
        var document = Parse(Full, First);

        Assert.NotEqual(document, document with { Tasks = [document.Tasks[0] with { Priority = 8 }, .. document.Tasks.Skip(1)] });
        Assert.NotEqual(document, document with { Tasks = [document.Tasks[0] with { Schedule = CronSchedule.Parse("*/5 * * * *", "UTC") }, .. document.Tasks.Skip(1)] });
        Assert.NotEqual(document, document with { Tasks = [document.Tasks[0] with { Kwargs = document.Tasks[0].Headers }, .. document.Tasks.Skip(1)] });
        Assert.NotEqual(document, document with { Dependencies = document.Dependencies.Take(2).ToList() });
        Assert.NotEqual(document, document with { Simulate = document.Simulate! with { Runs = [] } });
        Assert.NotEqual(document, document with { Simulate = null });
    }

    private static ScheduleDocument Parse(string text, ScheduleFileOptions options)
    {
        var result = ScheduleFile.Parse(text, options);
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        return result.Document!;
    }
}
