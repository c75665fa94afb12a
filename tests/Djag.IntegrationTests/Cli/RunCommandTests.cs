using System.Text.Json;
using Djag.Cli;
using Djag.IntegrationTests.Infrastructure;
using Djag.IntegrationTests.Persistence;
using Djag.Persistence.Runs;
using NodaTime;

namespace Djag.IntegrationTests.Cli;

/// <summary><c>djag runs list|show</c> on a real database.</summary>
public sealed class RunCommandTests(ServersFixture servers)
{
    private static readonly Instant Ten = Instant.FromUtc(2026, 3, 1, 10, 0);
    private static readonly Instant Eleven = Instant.FromUtc(2026, 3, 1, 11, 0);

    [Fact]
    public async Task Runs_list_prints_the_newest_first_as_a_table()
    {
        var db = await TestDatabase.CreateAsync(servers, "cli");
        await CliData.ChainAsync(db);
        var first = await CliData.AddRunAsync(db, "extract", Ten, RunOutcomes.Success);
        var second = await CliData.AddRunAsync(db, "transform", Eleven, RunOutcomes.Failure, worker: "host-2");
        var third = await CliData.AddRunAsync(db, "extract", Eleven, null, RunOrigins.Manual);

        var run = await CliRunner.RunAsync(db, "runs", "list");

        Assert.Equal((ExitCodes.Ok, ""), (run.ExitCode, run.Error));
        Assert.Equal((1L, 2L, 3L), (first, second, third)); // a fresh database: the ids below are these
        Assert.Equal(
            """
            ID  TASK       CRON                 ATTEMPT  ORIGIN  STATE     OUTCOME  WORKER  STARTED              DURATION
            3   extract    2026-03-01 11:00:00  1        manual  running   -        w1      2026-03-01 11:00:01  -
            2   transform  2026-03-01 11:00:00  1        cron    finished  failure  host-2  2026-03-01 11:00:01  2.5 s
            1   extract    2026-03-01 10:00:00  1        cron    finished  success  w1      2026-03-01 10:00:01  2.5 s

            """,
            run.Out);
    }

    [Fact]
    public async Task Runs_list_jsonl_lines_carry_the_fields_scripts_need()
    {
        var db = await TestDatabase.CreateAsync(servers, "cli");
        await CliData.ChainAsync(db);
        var id = await CliData.AddRunAsync(db, "transform", Eleven, RunOutcomes.Failure, worker: "host-2");

        var run = await CliRunner.RunAsync(db, "runs", "list", "--format", "jsonl");

        Assert.Equal((ExitCodes.Ok, ""), (run.ExitCode, run.Error));
        var line = JsonDocument.Parse(Assert.Single(run.Lines)).RootElement;
        Assert.Equal(id, line.GetProperty("id").GetInt64());
        Assert.Equal("transform", line.GetProperty("task").GetString());
        Assert.Equal("2026-03-01T11:00:00+00:00", line.GetProperty("cron").GetString());
        Assert.Equal(1, line.GetProperty("attempt").GetInt32());
        Assert.Equal("finished", line.GetProperty("state").GetString());
        Assert.Equal("failure", line.GetProperty("outcome").GetString());
        Assert.Equal("host-2", line.GetProperty("worker").GetString());
        Assert.Equal("2026-03-01T11:00:00+00:00", line.GetProperty("dispatched_at").GetString());
        Assert.Equal("2026-03-01T11:00:01+00:00", line.GetProperty("started_at").GetString());
        Assert.Equal("2026-03-01T11:00:03.5+00:00", line.GetProperty("finished_at").GetString());
        Assert.Equal("cron", line.GetProperty("origin").GetString());
        Assert.Equal("boom\nat line 2", line.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Runs_list_filters_by_task_state_outcome_and_origin()
    {
        var db = await TestDatabase.CreateAsync(servers, "cli");
        await CliData.ChainAsync(db);
        var success = await CliData.AddRunAsync(db, "extract", Ten, RunOutcomes.Success);
        var failure = await CliData.AddRunAsync(db, "transform", Eleven, RunOutcomes.Failure);
        var manual = await CliData.AddRunAsync(db, "extract", Eleven, null, RunOrigins.Manual);

        async Task<long[]> Ids(params string[] filter) =>
            [.. (await CliRunner.RunAsync(db, ["runs", "list", "--format", "jsonl", .. filter])).Lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("id").GetInt64())];

        Assert.Equal([manual, success], await Ids("--task", "extract"));
        Assert.Equal([failure, success], await Ids("--state", "finished"));
        Assert.Equal([failure], await Ids("--outcome", "failure"));
        Assert.Equal([manual], await Ids("--origin", "manual"));
        Assert.Equal([manual], await Ids("--limit", "1"));
        Assert.Empty(await Ids("--task", "load"));
    }

    [Theory]
    [InlineData(new[] { "runs", "list", "--state", "done" }, "error: state: 'done' is not one of scheduled, dispatched, running, finished, skipped, coalesced\n")]
    [InlineData(new[] { "runs", "list", "--task", "nope" }, "error: task: no task named 'nope'\n")]
    [InlineData(new[] { "runs", "show", "999999" }, "error: run_id: no run with id 999999\n")]
    public async Task Bad_input_exits_2_naming_the_field(string[] args, string expected)
    {
        var db = await TestDatabase.CreateAsync(servers, "cli");
        await CliData.ChainAsync(db);

        var run = await CliRunner.RunAsync(db, args);

        Assert.Equal(ExitCodes.BadInput, run.ExitCode);
        Assert.Equal(expected, run.Error);
    }

    [Fact]
    public async Task A_run_id_that_is_not_a_number_is_a_usage_error()
    {
        var db = await TestDatabase.CreateAsync(servers, "cli");

        var run = await CliRunner.RunAsync(db, "runs", "show", "abc");

        Assert.Equal(ExitCodes.BadInput, run.ExitCode);
        Assert.Contains("abc", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Runs_show_prints_every_field_with_the_error_on_indented_lines()
    {
        var db = await TestDatabase.CreateAsync(servers, "cli");
        await CliData.ChainAsync(db);
        var id = await CliData.AddRunAsync(db, "transform", Eleven, RunOutcomes.Failure, worker: "host-2");

        var run = await CliRunner.RunAsync(db, "runs", "show", id.ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal((ExitCodes.Ok, ""), (run.ExitCode, run.Error));
        Assert.Equal(
            $"""
            id:          {id}
            task:        transform
            cron:        2026-03-01 11:00:00
            attempt:     1
            origin:      cron
            state:       finished
            outcome:     failure
            worker:      host-2
            not before:  -
            dispatched:  2026-03-01 11:00:00
            started:     2026-03-01 11:00:01
            finished:    2026-03-01 11:00:03
            duration:    2.5 s
            reason:      -
            error:       boom
                         at line 2
            output:      -

            """,
            run.Out);
    }
}
