using System.Text.Json;
using Djag.Cli;
using Djag.IntegrationTests.Infrastructure;
using Djag.IntegrationTests.Persistence;
using Djag.Persistence.Operations;
using Djag.Persistence.Runs;

namespace Djag.IntegrationTests.Cli;

/// <summary><c>djag tasks list|show</c>, <c>why</c> and <c>dag</c> on a real database.</summary>
public sealed class TaskCommandTests(ServersFixture servers)
{
    [Fact]
    public async Task Tasks_list_prints_an_aligned_table_in_name_order_with_utc_times()
    {
        var db = await TestDatabase.CreateAsync(servers, "cli");
        await CliData.ChainAsync(db);
        await CliData.AddRunAsync(db, "extract", CliData.Now, RunOutcomes.Failure);

        var run = await CliRunner.RunAsync(db, "tasks", "list");

        Assert.Equal((ExitCodes.Ok, ""), (run.ExitCode, run.Error));
        Assert.Equal(
            """
            NAME       TASK           CRON            TIMEZONE  ENABLED  STATE     RUNNING  LAST START  NEXT FIRE            RUNS
            audit      etl.audit      0 30 * * * *    UTC       no       disabled  0        -           -                    0
            cleanup    etl.cleanup    0 */10 * * * *  UTC       yes      waiting   0        -           2026-03-01 12:10:00  0
            extract    djag.sleep     0 0 * * * *     UTC       yes      failed    0        -           2026-03-01 13:00:00  0
            load       etl.load       0 0 * * * *     UTC       yes      waiting   0        -           2026-03-01 13:00:00  0
            transform  etl.transform  0 0 * * * *     UTC       yes      waiting   0        -           2026-03-01 13:00:00  0

            """,
            run.Out);
        Assert.Equal("", run.Error);
    }

    [Fact]
    public async Task Tasks_list_filters_sorts_pages_and_prints_jsonl_in_the_api_shape()
    {
        var db = await TestDatabase.CreateAsync(servers, "cli");
        await CliData.ChainAsync(db);

        var disabled = await CliRunner.RunAsync(db, "tasks", "list", "--enabled", "false", "--format", "jsonl");
        var search = await CliRunner.RunAsync(db, "tasks", "list", "--search", "TRANS", "--format", "jsonl");
        var page = await CliRunner.RunAsync(db, "tasks", "list", "--sort", "name", "--desc", "--limit", "2", "--offset", "1");

        var audit = JsonDocument.Parse(Assert.Single(disabled.Lines)).RootElement;
        Assert.Equal(("audit", false, "disabled", "0 30 * * * *"), (audit.GetProperty("name").GetString(), audit.GetProperty("enabled").GetBoolean(),
            audit.GetProperty("state").GetString(), audit.GetProperty("crontab").GetString()));
        Assert.Equal(JsonValueKind.Null, audit.GetProperty("next_fire").ValueKind);
        Assert.Equal("transform", JsonDocument.Parse(Assert.Single(search.Lines)).RootElement.GetProperty("name").GetString());
        Assert.Equal(["NAME", "load", "extract", "(tasks 2-3 of 5; see more with --offset and --limit)"], page.Lines.Select(l => l.Split(' ')[0]).Take(3).Append(page.Lines[^1]));
        Assert.Equal(4, page.Lines.Length);
    }

    [Theory]
    [InlineData(new[] { "tasks", "list", "--sort", "colour" }, "error: sort: 'colour' is not a sort key: use one of name, task, last_cron_start, last_cron_end, total_run_count, running\n")]
    [InlineData(new[] { "tasks", "list", "--limit", "0" }, "error: limit: 0 is not between 1 and 500\n")]
    [InlineData(new[] { "tasks", "show", "nope" }, "error: task: no task named 'nope'\n")]
    [InlineData(new[] { "why", "nope" }, "error: task: no task named 'nope'\n")]
    public async Task Bad_input_exits_2_naming_the_field(string[] args, string expected)
    {
        var db = await TestDatabase.CreateAsync(servers, "cli");
        await CliData.ChainAsync(db);

        var run = await CliRunner.RunAsync(db, args);

        Assert.Equal(ExitCodes.BadInput, run.ExitCode);
        Assert.Equal(expected, run.Error);
        Assert.Equal("", run.Out);
    }

    [Fact]
    public async Task Tasks_show_prints_the_configuration_state_and_edges_both_ways()
    {
        var db = await TestDatabase.CreateAsync(servers, "cli");
        await CliData.ChainAsync(db);

        var run = await CliRunner.RunAsync(db, "tasks", "show", "load");

        Assert.Equal((ExitCodes.Ok, ""), (run.ExitCode, run.Error));
        Assert.Equal(
            """
            name:            load
            task:            etl.load
            cron:            0 0 * * * * (UTC)
            enabled:         yes
            state:           waiting
            running:         0 (max 1)
            next fire:       2026-03-01 13:00:00
            last cron:       -
            last start:      -
            last end:        -
            total runs:      0
            cron base:       2026-03-01 12:00:00
            misfire:         run_all (grace -, max catchup -)
            retries:         2 (backoff 5 s)
            timeout:         -
            queue:           default (priority 0)
            args:            []
            kwargs:          {}
            headers:         {}
            description:     Loads it.
            changed:         2026-03-01 12:00:00
            depends on:      transform (completion)
            depended on by:  -

            """,
            run.Out);
    }

    [Fact]
    public async Task Why_explains_a_waiting_event_with_each_edge_and_since_when()
    {
        var db = await TestDatabase.CreateAsync(servers, "cli");
        await CliData.ChainAsync(db);
        db.Clock.Advance(TimeSpan.FromMinutes(65));

        var run = await CliRunner.RunAsync(db, "why", "transform");

        Assert.Equal((ExitCodes.Ok, ""), (run.ExitCode, run.Error));
        Assert.Equal(
            """
            task:       transform
            verdict:    waiting: the event is due but held back
            event:      2026-03-01 13:00:00 (due since then: 5m 00s)
            reasons:    waiting on transform -> extract: extract has never succeeded
            running:    0 (no max_running)
            evaluated:  2026-03-01 13:05:00
            dependencies:
              DEPENDEE  CONDITION  FUTURE  RESOLVED  EXPLANATION
              extract   success    no      no        extract has never succeeded

            """,
            run.Out);
    }

    [Fact]
    public async Task Why_tells_a_paused_task_and_a_task_whose_event_is_not_due()
    {
        var db = await TestDatabase.CreateAsync(servers, "cli");
        await CliData.ChainAsync(db);

        var paused = await CliRunner.RunAsync(db, "why", "audit");
        var notDue = await CliRunner.RunAsync(db, "why", "extract");
        var limited = await CliRunner.RunAsync(db, "why", "load");

        Assert.Equal((ExitCodes.Ok, ""), (paused.ExitCode, paused.Error));
        Assert.Contains("verdict:    disabled: paused, the beat dispatches none of its events\n", paused.Out, StringComparison.Ordinal);
        Assert.Contains("dependencies:\n  (none)\n", paused.Out, StringComparison.Ordinal);
        Assert.Contains("verdict:     not_due: no event is due yet\nnext event:  2026-03-01 13:00:00 (in 1h 00m 00s)\n", notDue.Out, StringComparison.Ordinal);
        Assert.Contains("running:     0 of max_running 1\n", limited.Out, StringComparison.Ordinal);
        Assert.Contains("  transform  completion  no      no        ", limited.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dag_lists_layers_in_topological_order_and_dot_is_the_views_graphviz()
    {
        var db = await TestDatabase.CreateAsync(servers, "cli");
        await CliData.ChainAsync(db);

        var text = await CliRunner.RunAsync(db, "dag");
        var dot = await CliRunner.RunAsync(db, "dag", "--format", "dot");

        Assert.Equal((ExitCodes.Ok, ""), (text.ExitCode, text.Error));
        Assert.Equal(
            """
            LAYER  NAME       TASK           STATE     DEPENDS ON
            0      audit      etl.audit      disabled  -
            0      cleanup    etl.cleanup    waiting   cleanup (future)
            0      extract    djag.sleep     waiting   -
            1      transform  etl.transform  waiting   extract
            2      load       etl.load       waiting   transform (completion)

            """,
            text.Out);
        await using var context = db.Context();
        var view = await new DatabaseOperations(context, db.Clock).GetDagAsync(TestContext.Current.CancellationToken);
        Assert.Equal(view.ToDot(), dot.Out);
        Assert.Contains("\"extract\" -> \"transform\";", dot.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_empty_schedule_says_so()
    {
        var db = await TestDatabase.CreateAsync(servers, "cli");

        Assert.Equal("(no tasks)\n", (await CliRunner.RunAsync(db, "tasks", "list")).Out);
        Assert.Equal("(no tasks)\n", (await CliRunner.RunAsync(db, "dag")).Out);
        Assert.Equal("", (await CliRunner.RunAsync(db, "tasks", "list", "--format", "jsonl")).Out);
    }
}
