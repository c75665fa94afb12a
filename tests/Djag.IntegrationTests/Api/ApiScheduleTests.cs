using System.Net;
using System.Text;
using Djag.IntegrationTests.Apply;
using Djag.IntegrationTests.Infrastructure;
using Djag.IntegrationTests.Persistence;
using Djag.Persistence.Operations;
using Microsoft.EntityFrameworkCore;

namespace Djag.IntegrationTests.Api;

/// <summary>GET and PUT /schedule: the whole schedule as one schedule file.</summary>
public sealed class ApiScheduleTests(ServersFixture servers)
{
    private const string ThreeTasks = """
        tasks:
          - {name: a, task: etl.a, cron: "*/5 * * * *"}
          - {name: b, task: etl.b, cron: "*/5 * * * *"}
          - {name: c, task: etl.c, cron: "0 3 * * *", timezone: Europe/Berlin}
        dependencies:
          - {depender: b, dependee: a}
        """;

    private static readonly string[] Tables = ["crontabs", "periodic_tasks", "task_dependencies", "user_actions"];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Putting_a_schedule_file_applies_it_and_reports_the_diff()
    {
        await using var api = await ApiHost.StartAsync(servers);

        var result = await ApiAssert.ReadAsync<ApplyResult>(await api.Admin.PutAsync("/api/v1/schedule", Yaml(ThreeTasks), Ct));

        Assert.False(result.DryRun);
        Assert.Equal([(DiffKind.Added, "a"), (DiffKind.Added, "b"), (DiffKind.Added, "c")], result.Tasks.Select(e => (e.Kind, e.Name)));
        Assert.Equal((DiffKind.Added, "b -> a"), (result.Dependencies.Single().Kind, result.Dependencies.Single().Name));
        await using var context = api.Db.Context();
        Assert.Equal(["a", "b", "c"], await context.PeriodicTasks.OrderBy(t => t.Name).Select(t => t.Name).ToListAsync(Ct));
        Assert.Equal("Europe/Berlin", (await context.PeriodicTasks.Include(t => t.Crontab).SingleAsync(t => t.Name == "c", Ct)).Crontab.Timezone);
    }

    [Fact]
    public async Task The_etl_example_applies_as_json_too()
    {
        await using var api = await ApiHost.StartAsync(servers);
        var yaml = await File.ReadAllTextAsync(ApplyRunner.Example("etl.yaml"), Ct);
        var applied = await ApiAssert.ReadAsync<ApplyResult>(await api.Admin.PutAsync("/api/v1/schedule", Yaml(yaml), Ct));
        var json = await ApiAssert.TextAsync(await api.ReadOnly.GetAsync("/api/v1/schedule?format=json", Ct), "application/json");
        await using var other = await ApiHost.StartAsync(servers);

        var fromJson = await ApiAssert.ReadAsync<ApplyResult>(await other.Admin.PutAsync("/api/v1/schedule", ApiHost.Json(json), Ct));

        Assert.Equal((9, 5), (applied.Tasks.Count, applied.Dependencies.Count));
        Assert.Equal(applied.Tasks, fromJson.Tasks);
        Assert.Equal(applied.Dependencies, fromJson.Dependencies);
    }

    [Fact]
    public async Task Applying_the_same_file_twice_reports_no_changes_and_writes_nothing()
    {
        await using var api = await ApiHost.StartAsync(servers);
        await ApiAssert.ReadAsync<ApplyResult>(await api.Admin.PutAsync("/api/v1/schedule", Yaml(ThreeTasks), Ct));
        var before = await CountsAsync(api.Db);
        api.Db.Clock.Advance(TimeSpan.FromHours(1));

        var second = await ApiAssert.ReadAsync<ApplyResult>(await api.Admin.PutAsync("/api/v1/schedule", Yaml(ThreeTasks), Ct));

        Assert.Empty(second.Tasks);
        Assert.Empty(second.Dependencies);
        Assert.Equal(before, await CountsAsync(api.Db));
    }

    [Fact]
    public async Task A_dry_run_reports_the_diff_and_writes_nothing()
    {
        await using var api = await ApiHost.StartAsync(servers);
        await ApiAssert.ReadAsync<ApplyResult>(await api.Admin.PutAsync("/api/v1/schedule", Yaml(ThreeTasks), Ct));
        var before = await CountsAsync(api.Db);

        var result = await ApiAssert.ReadAsync<ApplyResult>(await api.Admin.PutAsync("/api/v1/schedule?dry_run=true&prune=true", Yaml("""
            tasks:
              - {name: a, task: etl.a, cron: "*/5 * * * *", priority: 9}
              - {name: d, task: etl.d, cron: "*/5 * * * *"}
            """), Ct));

        Assert.True(result.DryRun);
        Assert.Equal([(DiffKind.Added, "d"), (DiffKind.Changed, "a"), (DiffKind.Removed, "b"), (DiffKind.Removed, "c")], result.Tasks.Select(e => (e.Kind, e.Name)));
        Assert.Equal((DiffKind.Removed, "b -> a"), (result.Dependencies.Single().Kind, result.Dependencies.Single().Name));
        Assert.Equal(before, await CountsAsync(api.Db));
        await using var context = api.Db.Context();
        Assert.Equal(0, (await context.PeriodicTasks.SingleAsync(t => t.Name == "a", Ct)).Priority);
    }

    [Fact]
    public async Task Prune_deletes_what_the_file_does_not_list_and_without_it_nothing_is_deleted()
    {
        await using var api = await ApiHost.StartAsync(servers);
        await ApiAssert.ReadAsync<ApplyResult>(await api.Admin.PutAsync("/api/v1/schedule", Yaml(ThreeTasks), Ct));
        const string OnlyA = "tasks:\n  - {name: a, task: etl.a, cron: \"*/5 * * * *\"}\n";

        var kept = await ApiAssert.ReadAsync<ApplyResult>(await api.Admin.PutAsync("/api/v1/schedule?prune=false", Yaml(OnlyA), Ct));
        var tasksAfterKeep = await api.Db.CountAsync("periodic_tasks");
        var pruned = await ApiAssert.ReadAsync<ApplyResult>(await api.Admin.PutAsync("/api/v1/schedule?prune=true", Yaml(OnlyA), Ct));

        Assert.True(kept.IsEmpty);
        Assert.Equal(3, tasksAfterKeep);
        Assert.Equal([(DiffKind.Removed, "b"), (DiffKind.Removed, "c")], pruned.Tasks.Select(e => (e.Kind, e.Name)));
        Assert.Equal((1L, 0L), (await api.Db.CountAsync("periodic_tasks"), await api.Db.CountAsync("task_dependencies")));
    }

    [Theory]
    [InlineData("yaml", "application/yaml")]
    [InlineData("json", "application/json")]
    public async Task Getting_the_schedule_and_putting_it_back_changes_nothing(string format, string mediaType)
    {
        await using var api = await ApiHost.StartAsync(servers);
        var yaml = await File.ReadAllTextAsync(ApplyRunner.Example("etl.yaml"), Ct);
        await ApiAssert.ReadAsync<ApplyResult>(await api.Admin.PutAsync("/api/v1/schedule", Yaml(yaml), Ct));
        var before = await CountsAsync(api.Db);

        var exported = await ApiAssert.TextAsync(await api.ReadOnly.GetAsync($"/api/v1/schedule?format={format}", Ct), mediaType);
        var result = await ApiAssert.ReadAsync<ApplyResult>(
            await api.Admin.PutAsync("/api/v1/schedule?prune=true", new StringContent(exported, Encoding.UTF8, mediaType), Ct));

        Assert.True(result.IsEmpty, string.Join(", ", result.Tasks.Concat(result.Dependencies)));
        Assert.Equal(before, await CountsAsync(api.Db));
        Assert.Contains("extract", exported, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_export_is_yaml_by_default_and_an_unknown_format_is_refused()
    {
        await using var api = await ApiHost.StartAsync(servers);
        await api.Db.ApplyAsync(new() { Tasks = [TestDatabase.Task("a")] });

        var yaml = await ApiAssert.TextAsync(await api.ReadOnly.GetAsync("/api/v1/schedule", Ct), "application/yaml");
        var problem = await ApiAssert.ProblemAsync(await api.ReadOnly.GetAsync("/api/v1/schedule?format=toml", Ct), HttpStatusCode.BadRequest, "invalid");

        Assert.StartsWith("tasks:", yaml, StringComparison.Ordinal);
        ApiAssert.Names(problem, "format", "toml");
    }

    [Theory]
    [InlineData("tasks: [ {name: a", "", "")]
    [InlineData("", "", "empty")]
    [InlineData("tasks:\n  - {name: a, task: etl.a, cron: \"*/5 * * *\"}\n", "tasks[0].cron", "")]
    [InlineData("tasks:\n  - {name: a, task: etl.a, cron: \"*/5 * * * *\", timezone: Atlantis/Capital}\n", "tasks[0].timezone", "Atlantis/Capital")]
    [InlineData("tasks:\n  - {name: a, task: etl.a, cron: \"*/5 * * * *\", misfire: skip}\n", "tasks[0].grace_period", "required")]
    [InlineData("tasks:\n  - {name: a, task: etl.a, cron: \"*/5 * * * *\", args: 3}\n", "tasks[0].args", "array")]
    [InlineData("tasks:\n  - {name: a, task: etl.a, cron: \"*/5 * * * *\"}\ndependencies:\n  - {depender: a, dependee: ghost}\n", "dependencies[0].dependee", "unknown task 'ghost'")]
    public async Task A_file_that_does_not_parse_is_refused_with_its_errors_and_nothing_is_saved(string file, string field, string says)
    {
        await using var api = await ApiHost.StartAsync(servers);
        await api.Db.ApplyAsync(new() { Tasks = [TestDatabase.Task("keep")] });
        var before = await CountsAsync(api.Db);

        var problem = await ApiAssert.ProblemAsync(await api.Admin.PutAsync("/api/v1/schedule?prune=true", Yaml(file), Ct), HttpStatusCode.BadRequest, "invalid");

        ApiAssert.Names(problem, field, says);
        Assert.Equal(before, await CountsAsync(api.Db));
    }

    [Fact]
    public async Task A_cycle_in_the_file_is_refused_naming_the_cycle()
    {
        await using var api = await ApiHost.StartAsync(servers);

        var problem = await ApiAssert.ProblemAsync(await api.Admin.PutAsync("/api/v1/schedule", Yaml("""
            tasks:
              - {name: a, task: etl.a, cron: "*/5 * * * *"}
              - {name: b, task: etl.b, cron: "*/5 * * * *"}
              - {name: c, task: etl.c, cron: "*/5 * * * *"}
            dependencies:
              - {depender: a, dependee: b}
              - {depender: b, dependee: c}
              - {depender: c, dependee: a}
            """), Ct), HttpStatusCode.BadRequest, "invalid");

        var error = Assert.Single(problem.Errors);
        Assert.Equal("dependencies", error.Field);
        Assert.Contains("cycle", error.Message, StringComparison.Ordinal);
        Assert.All(["a", "b", "c"], name => Assert.Contains(name, error.Message, StringComparison.Ordinal));
        Assert.Equal((0L, 0L), (await api.Db.CountAsync("periodic_tasks"), await api.Db.CountAsync("user_actions")));
    }

    [Fact]
    public async Task A_file_closing_a_cycle_with_stored_edges_is_refused_by_the_write_path()
    {
        await using var api = await ApiHost.StartAsync(servers);
        await ApiAssert.ReadAsync<ApplyResult>(await api.Admin.PutAsync("/api/v1/schedule", Yaml(ThreeTasks), Ct));
        var before = await CountsAsync(api.Db);

        // Alone the file is acyclic; with the stored b -> a (not pruned) it closes a -> b -> a.
        var problem = await ApiAssert.ProblemAsync(await api.Admin.PutAsync("/api/v1/schedule", Yaml("""
            tasks:
              - {name: a, task: etl.a, cron: "*/5 * * * *"}
              - {name: b, task: etl.b, cron: "*/5 * * * *"}
            dependencies:
              - {depender: a, dependee: b}
            """), Ct), HttpStatusCode.BadRequest, "invalid");

        ApiAssert.Names(problem, "dependencies", "cycle");
        Assert.Equal(before, await CountsAsync(api.Db));
    }

    private static StringContent Yaml(string text) => new(text, Encoding.UTF8, "application/yaml");

    private static async Task<string> CountsAsync(TestDatabase db)
    {
        var counts = new List<string>();
        foreach (var table in Tables)
        {
            counts.Add($"{table}={await db.CountAsync(table)}");
        }

        await using var context = db.Context();
        var changed = await context.PeriodicTasks.OrderBy(t => t.Name).Select(t => new { t.Name, t.DateChanged }).ToListAsync(Ct);
        return string.Join(" ", counts.Concat(changed.Select(t => $"{t.Name}@{t.DateChanged}")));
    }
}
