using Djag.Cli;
using Djag.IntegrationTests.Cli;
using Djag.IntegrationTests.Infrastructure;
using Djag.IntegrationTests.Persistence;
using Djag.Scheduling;
using Microsoft.EntityFrameworkCore;
using NodaTime;

namespace Djag.IntegrationTests.Apply;

public sealed class ApplyCommandTests(ServersFixture servers) : IDisposable
{
    private static readonly string[] ScheduleTables = ["crontabs", "periodic_tasks", "task_dependencies", "user_actions"];

    private static readonly string[] EtlTasks =
        ["audit", "cleanup", "digest_coalesce", "extract", "heartbeat_skip", "hello", "load", "report", "transform"];

    private readonly DirectoryInfo _files = Directory.CreateTempSubdirectory("djag-apply-");

    public void Dispose() => _files.Delete(recursive: true);

    [Fact]
    public async Task Applying_the_etl_example_creates_its_tasks_and_dependencies()
    {
        var db = await TestDatabase.CreateAsync(servers, "apply");

        var run = await ApplyRunner.Run(db, ApplyRunner.Example("etl.yaml"));

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal("", run.Error);
        Assert.EndsWith("tasks: 9 added, 0 changed, 0 removed; dependencies: 5 added, 0 changed, 0 removed\n", run.Out, StringComparison.Ordinal);
        Assert.Contains("add     task extract\n", run.Out, StringComparison.Ordinal);
        Assert.Contains("add     dependency report -> audit\n", run.Out, StringComparison.Ordinal);

        await using var context = db.Context();
        var ct = TestContext.Current.CancellationToken;
        var tasks = await context.PeriodicTasks.Include(t => t.Crontab).ToDictionaryAsync(t => t.Name, ct);
        Assert.Equal(EtlTasks, tasks.Keys.Order(StringComparer.Ordinal));
        var now = Instant.FromDateTimeOffset(db.Clock.GetUtcNow());
        Assert.All(tasks.Values, t => Assert.Equal(now, t.CronBase));

        // Each field of the file lands in its column.
        Assert.Equal("*/20 * * * * *", tasks["extract"].Crontab.Expression);
        Assert.Equal("UTC", tasks["extract"].Crontab.Timezone);
        Assert.Equal("{\"seconds\": 2}", tasks["extract"].Kwargs);
        Assert.Equal("Pretends to pull files for 2 s.", tasks["extract"].Description);
        Assert.Equal(30, tasks["transform"].Timeout);
        Assert.Equal((2, 5), (tasks["load"].MaxRetries, tasks["load"].RetryBackoff));
        Assert.Equal("[\"loaded\"]", tasks["load"].Args);
        Assert.Equal(5, tasks["report"].Priority);
        Assert.Equal(1, tasks["cleanup"].MaxCatchup);
        Assert.Equal(1, tasks["hello"].MaxRunning);
        Assert.Equal((true, false, (int?)2), (tasks["heartbeat_skip"].SkipMisfire, tasks["heartbeat_skip"].CoalesceMisfire, tasks["heartbeat_skip"].GracePeriod));
        Assert.Equal((false, true, (int?)5), (tasks["digest_coalesce"].SkipMisfire, tasks["digest_coalesce"].CoalesceMisfire, tasks["digest_coalesce"].GracePeriod));
        Assert.Equal((false, false, (int?)null), (tasks["extract"].SkipMisfire, tasks["extract"].CoalesceMisfire, tasks["extract"].GracePeriod));

        var edges = await context.TaskDependencies
            .Select(d => new { Depender = d.Depender.Name, Dependee = d.Dependee.Name, d.FutureDepends, d.Condition })
            .ToListAsync(ct);
        Assert.Equal(
            ["cleanup->cleanup future", "load->transform", "report->audit", "report->load", "transform->extract"],
            edges.Select(e => $"{e.Depender}->{e.Dependee}{(e.FutureDepends ? " future" : "")}").Order(StringComparer.Ordinal));
        Assert.All(edges, e => Assert.Equal(DependencyCondition.Success, e.Condition));
        Assert.Equal(14, await db.CountAsync("user_actions"));
    }

    [Fact]
    public async Task Applying_the_same_file_twice_reports_no_changes_and_writes_nothing()
    {
        var db = await TestDatabase.CreateAsync(servers, "apply");
        var file = ApplyRunner.Example("etl.yaml");
        Assert.Equal(ExitCodes.Ok, (await ApplyRunner.Run(db, file)).ExitCode);
        var created = Instant.FromDateTimeOffset(db.Clock.GetUtcNow());
        var actions = await db.CountAsync("user_actions");

        // Later, so a cron_base defaulted to "now" would differ from the stored one if it were applied.
        db.Clock.Advance(TimeSpan.FromHours(1));
        var second = await ApplyRunner.Run(db, file);

        Assert.Equal(ExitCodes.Ok, second.ExitCode);
        Assert.Equal("no changes\ntasks: 0 added, 0 changed, 0 removed; dependencies: 0 added, 0 changed, 0 removed\n", second.Out);
        Assert.Equal(actions, await db.CountAsync("user_actions"));
        await using var context = db.Context();
        var ct = TestContext.Current.CancellationToken;
        Assert.All(await context.PeriodicTasks.ToListAsync(ct), t => Assert.Equal((created, created), (t.CronBase, t.DateChanged)));
    }

    [Fact]
    public async Task An_explicit_cron_base_is_applied_to_a_stored_task_and_an_omitted_one_keeps_the_stored_value()
    {
        var db = await TestDatabase.CreateAsync(servers, "apply");
        var created = Instant.FromDateTimeOffset(db.Clock.GetUtcNow());
        Assert.Equal(ExitCodes.Ok, (await ApplyRunner.Run(db, Write("a.yaml", Tasks("a", "b")))).ExitCode);
        db.Clock.Advance(TimeSpan.FromHours(1));

        var run = await ApplyRunner.Run(db, Write("b.yaml", """
            tasks:
              - {name: a, task: etl.a, cron: "*/5 * * * *", cron_base: "2026-01-01T00:00:00Z"}
              - {name: b, task: etl.b, cron: "*/5 * * * *"}
            """));

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.StartsWith("change  task a\ntasks: 0 added, 1 changed, 0 removed;", run.Out, StringComparison.Ordinal);
        await using var context = db.Context();
        var cronBases = await context.PeriodicTasks.ToDictionaryAsync(t => t.Name, t => t.CronBase, TestContext.Current.CancellationToken);
        Assert.Equal(Instant.FromUtc(2026, 1, 1, 0, 0), cronBases["a"]);
        Assert.Equal(created, cronBases["b"]);
    }

    [Fact]
    public async Task A_dry_run_prints_the_diff_and_writes_nothing()
    {
        var db = await TestDatabase.CreateAsync(servers, "apply");
        Assert.Equal(ExitCodes.Ok, (await ApplyRunner.Run(db, Write("v1.yaml", Tasks("a", "b", "c") + "dependencies:\n  - {depender: b, dependee: a}\n"))).ExitCode);
        var before = await CountsAsync(db);

        var run = await ApplyRunner.Run(db, Write("v2.yaml", """
            tasks:
              - {name: a, task: etl.a, cron: "*/5 * * * *", priority: 9}
              - {name: c, task: etl.c, cron: "*/5 * * * *"}
              - {name: d, task: etl.d, cron: "*/5 * * * *"}
            dependencies:
              - {depender: d, dependee: c}
            """), "--dry-run", "--prune");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Equal(
            """
            add     task d
            change  task a
            remove  task b
            add     dependency d -> c
            remove  dependency b -> a
            tasks: 1 added, 1 changed, 1 removed; dependencies: 1 added, 0 changed, 1 removed
            dry run: nothing was written

            """.ReplaceLineEndings("\n"),
            run.Out);
        Assert.Equal(before, await CountsAsync(db));
        await using var context = db.Context();
        Assert.Equal(0, (await context.PeriodicTasks.SingleAsync(t => t.Name == "a", TestContext.Current.CancellationToken)).Priority);
    }

    [Fact]
    public async Task Prune_removes_what_the_file_dropped_and_without_it_stored_tasks_stay()
    {
        var db = await TestDatabase.CreateAsync(servers, "apply");
        Assert.Equal(ExitCodes.Ok, (await ApplyRunner.Run(db, ApplyRunner.Example("etl.yaml"))).ExitCode);

        // audit is a dependee of report: pruning it is allowed because the edge goes in the same change.
        var reduced = Write("reduced.yaml", File.ReadAllText(ApplyRunner.Example("etl.yaml"))
            .Replace("  - name: audit\n    task: djag.echo\n    cron: \"*/30 * * * * *\"\n    args: [audited]\n", "", StringComparison.Ordinal)
            .Replace("  - {depender: report, dependee: audit}\n", "", StringComparison.Ordinal));
        var kept = await ApplyRunner.Run(db, reduced);
        Assert.Equal(ExitCodes.Ok, kept.ExitCode);
        Assert.EndsWith("tasks: 0 added, 0 changed, 0 removed; dependencies: 0 added, 0 changed, 0 removed\n", kept.Out, StringComparison.Ordinal);
        Assert.Equal(9, await db.CountAsync("periodic_tasks"));

        var pruned = await ApplyRunner.Run(db, reduced, "--prune");

        Assert.Equal(ExitCodes.Ok, pruned.ExitCode);
        Assert.Equal(
            "remove  task audit\nremove  dependency report -> audit\ntasks: 0 added, 0 changed, 1 removed; dependencies: 0 added, 0 changed, 1 removed\n",
            pruned.Out);
        await using var context = db.Context();
        var ct = TestContext.Current.CancellationToken;
        Assert.Equal(EtlTasks.Where(n => n != "audit"), (await context.PeriodicTasks.Select(t => t.Name).ToListAsync(ct)).Order(StringComparer.Ordinal));
        Assert.Equal(4, await db.CountAsync("task_dependencies"));
    }

    [Theory]
    [InlineData("cycle", "dependencies: cycle a -> b -> a")]
    [InlineData("bad_cron", "tasks[1].cron: minute: '61'")]
    [InlineData("unknown_dependee", "dependencies[0].dependee: unknown task 'nope'")]
    public async Task A_bad_file_exits_2_naming_the_path_and_saves_nothing(string name, string expected)
    {
        var text = name switch
        {
            "cycle" => Tasks("a", "b") + "dependencies:\n  - {depender: a, dependee: b}\n  - {depender: b, dependee: a}\n",
            "bad_cron" => Tasks("a") + "  - {name: b, task: etl.b, cron: \"61 * * * *\"}\n",
            _ => Tasks("a") + "dependencies:\n  - {depender: a, dependee: nope}\n",
        };
        var db = await TestDatabase.CreateAsync(servers, "apply");
        var file = Write(name + ".yaml", text);

        var run = await ApplyRunner.Run(db, file);

        Assert.Equal(ExitCodes.BadInput, run.ExitCode);
        Assert.Contains($"error: {file}: {expected}", run.Error, StringComparison.Ordinal);
        Assert.Equal("", run.Out);
        Assert.Equal(new long[4], await CountsAsync(db));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_change_the_service_rejects_exits_2_naming_the_field_and_saves_nothing(bool dryRun)
    {
        // Each file is acyclic; together with the stored edge a -> b, the second one closes a cycle.
        var db = await TestDatabase.CreateAsync(servers, "apply");
        Assert.Equal(ExitCodes.Ok, (await ApplyRunner.Run(db, Write("v1.yaml", Tasks("a", "b") + "dependencies:\n  - {depender: a, dependee: b}\n"))).ExitCode);
        var before = await CountsAsync(db);
        var v2 = Write("v2.yaml", Tasks("a", "b", "c") + "dependencies:\n  - {depender: b, dependee: a}\n");

        var run = await ApplyRunner.Run(db, dryRun ? [v2, "--dry-run"] : [v2]);

        Assert.Equal(ExitCodes.BadInput, run.ExitCode);
        Assert.Contains("error: dependencies: the change would close the cycle a -> b -> a\n", run.Error, StringComparison.Ordinal);
        Assert.Equal("", run.Out);
        Assert.Equal(before, await CountsAsync(db));
    }

    [Fact]
    public async Task Without_a_connection_string_it_exits_2_naming_the_flags_and_the_variables()
    {
        var run = await CliRunner.RunAsync(TimeProvider.System, c => c, "apply", ApplyRunner.Example("etl.yaml"));

        Assert.Equal(ExitCodes.BadInput, run.ExitCode);
        Assert.Equal(
            "error: no database or server: pass --db CONNSTR or --server URL (with --token), or set DJAG_DB or DJAG_SERVER and DJAG_TOKEN\n",
            run.Error);
    }

    [Fact]
    public async Task An_unreachable_database_exits_1()
    {
        // Port 1 on loopback: nothing listens there, so the connection is refused at once.
        var run = await CliRunner.RunAsync(
            TimeProvider.System, c => c, "apply", ApplyRunner.Example("etl.yaml"), "--db", "Host=127.0.0.1;Port=1;Timeout=5;Username=djag");

        Assert.Equal(ExitCodes.Failed, run.ExitCode);
        Assert.StartsWith("error: database: ", run.Error, StringComparison.Ordinal);
        Assert.Equal("", run.Out);
    }

    private static string Tasks(params string[] names) =>
        "tasks:\n" + string.Concat(names.Select(n => $"  - {{name: {n}, task: etl.{n}, cron: \"*/5 * * * *\"}}\n"));

    private string Write(string name, string text)
    {
        var path = Path.Combine(_files.FullName, name);
        File.WriteAllText(path, text.ReplaceLineEndings("\n"));
        return path;
    }

    private static async Task<long[]> CountsAsync(TestDatabase db)
    {
        var counts = new List<long>();
        foreach (var table in ScheduleTables)
        {
            counts.Add(await db.CountAsync(table));
        }

        return [.. counts];
    }
}
