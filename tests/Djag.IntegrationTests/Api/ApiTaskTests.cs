using System.Net;
using System.Net.Http.Json;
using Djag.Api;
using Djag.IntegrationTests.Infrastructure;
using Djag.IntegrationTests.Persistence;
using Djag.Persistence.Operations;
using Microsoft.EntityFrameworkCore;
using NodaTime;

namespace Djag.IntegrationTests.Api;

public sealed class ApiTaskTests(ServersFixture servers)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Creating_a_task_answers_201_with_it_and_saves_every_field()
    {
        await using var api = await ApiHost.StartAsync(servers);

        var response = await api.Admin.PostAsync("/api/v1/tasks", ApiHost.Json("""
            {"name": "load", "task": "etl.load", "cron": "*/5 * * * *", "timezone": "Europe/Paris",
             "cron_base": "2026-01-01T00:00:00Z", "misfire": "coalesce", "grace_period": 30, "max_catchup": 3,
             "max_running": 2, "max_retries": 4, "retry_backoff": 10, "timeout": 60, "enabled": false,
             "args": ["a", 1], "kwargs": {"k": true}, "queue": "bulk", "priority": 7, "headers": {"h": "v"},
             "description": "Loads."}
            """), Ct);

        Assert.Equal("/api/v1/tasks/load", response.Headers.Location?.OriginalString);
        var detail = await ApiAssert.ReadAsync<TaskDetail>(response, HttpStatusCode.Created);
        Assert.Equal(("load", "etl.load", "0 */5 * * * *", "Europe/Paris", false, "disabled"),
            (detail.Summary.Name, detail.Summary.Task, detail.Summary.Crontab, detail.Summary.Timezone, detail.Summary.Enabled, detail.Summary.State));
        Assert.Equal(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), detail.CronBase);
        Assert.Equal(("coalesce", (int?)30, (int?)3, (int?)2, 4, 10, (int?)60), (detail.Misfire, detail.GracePeriod, detail.MaxCatchup, detail.MaxRunning, detail.MaxRetries, detail.RetryBackoff, detail.Timeout));
        Assert.Equal(("bulk", 7, "Loads."), (detail.Queue, detail.Priority, detail.Description));

        await using var context = api.Db.Context();
        var row = await context.PeriodicTasks.Include(t => t.Crontab).SingleAsync(Ct);
        Assert.Equal(("load", "etl.load", "0 */5 * * * *", "Europe/Paris"), (row.Name, row.Task, row.Crontab.Expression, row.Crontab.Timezone));
        Assert.Equal((false, true, (int?)30, false), (row.SkipMisfire, row.CoalesceMisfire, row.GracePeriod, row.Enabled));
        Assert.Equal(Instant.FromUtc(2026, 1, 1, 0, 0), row.CronBase);
        Assert.Equal(("[\"a\", 1]", "{\"k\": true}", "{\"h\": \"v\"}"), (row.Args, row.Kwargs, row.Headers));
        Assert.Equal(1, await api.Db.CountAsync("user_actions"));
    }

    [Fact]
    public async Task A_task_with_only_the_required_fields_takes_the_schedule_file_defaults()
    {
        await using var api = await ApiHost.StartAsync(servers);

        var detail = await ApiAssert.ReadAsync<TaskDetail>(
            await api.Admin.PostAsync("/api/v1/tasks", ApiHost.Json("""{"name": "hello", "task": "djag.echo", "cron": "0 * * * *"}"""), Ct),
            HttpStatusCode.Created);

        Assert.Equal(("0 0 * * * *", "UTC", true, "run_all", "default", 0), (detail.Summary.Crontab, detail.Summary.Timezone, detail.Summary.Enabled, detail.Misfire, detail.Queue, detail.Priority));
        Assert.Equal(("[]", "{}", "{}"), (detail.Args, detail.Kwargs, detail.Headers));
        Assert.Equal(api.Db.Clock.GetUtcNow(), detail.CronBase);
        Assert.Equal(new DateTimeOffset(2026, 3, 1, 13, 0, 0, TimeSpan.Zero), detail.Summary.NextFire);
    }

    [Theory]
    [InlineData("""{"name": "t", "task": "x", "cron": "61 * * * *"}""", "cron", "minute")]
    [InlineData("""{"name": "t", "task": "x", "cron": "* * * *"}""", "cron", "")]
    [InlineData("""{"name": "t", "task": "x", "cron": "0 * * * *", "timezone": "Mars/Olympus"}""", "timezone", "Mars/Olympus")]
    [InlineData("""{"name": "t", "task": "x", "cron": "0 * * * *", "args": {"a": 1}}""", "args", "array")]
    [InlineData("""{"name": "t", "task": "x", "cron": "0 * * * *", "kwargs": [1]}""", "kwargs", "object")]
    [InlineData("""{"name": "t", "task": "x", "cron": "0 * * * *", "misfire": "skip"}""", "grace_period", "required when misfire is skip")]
    [InlineData("""{"name": "t", "task": "x", "cron": "0 * * * *", "misfire": "sometimes"}""", "misfire", "run_all, skip, coalesce")]
    [InlineData("""{"name": "t", "task": "x", "cron": "0 * * * *", "misfire": ["skip", "coalesce"], "grace_period": 5}""", "misfire", "wrong type")]
    [InlineData("""{"name": "t", "task": "x", "cron": "0 * * * *", "priority": 256}""", "priority", "between 0 and 255")]
    [InlineData("""{"name": "t", "task": "x", "cron": "0 * * * *", "priority": "high"}""", "priority", "wrong type")]
    [InlineData("""{"name": "t", "task": "x", "cron": "0 * * * *", "misfire": "skip", "grace_period": "30"}""", "grace_period", "wrong type")]
    [InlineData("""{"name": "t", "task": "x", "cron": "0 * * * *", "queue": "a.b"}""", "queue", "not a valid queue")]
    [InlineData("""{"name": "t", "task": "x", "cron": "0 * * * *", "cron_base": "yesterday"}""", "cron_base", "yesterday")]
    [InlineData("""{"name": "t", "task": "x", "cron": "0 * * * *", "max_running": 0}""", "max_running", ">= 1")]
    [InlineData("""{"name": "t", "task": "x", "cron": "0 * * * *", "crn": "0 * * * *"}""", "crn", "could not be mapped")]
    [InlineData("""{"name": "t", "task": "x", "cron": "0 * * * *" """, "", "")]
    public async Task An_invalid_task_is_refused_naming_the_field_and_nothing_is_saved(string body, string field, string says)
    {
        await using var api = await ApiHost.StartAsync(servers);

        var problem = await ApiAssert.ProblemAsync(await api.Admin.PostAsync("/api/v1/tasks", ApiHost.Json(body), Ct), HttpStatusCode.BadRequest, "invalid");

        ApiAssert.Names(problem, field, says);
        Assert.Equal((0L, 0L, 0L), (await api.Db.CountAsync("periodic_tasks"), await api.Db.CountAsync("crontabs"), await api.Db.CountAsync("user_actions")));
    }

    [Fact]
    public async Task Every_problem_of_a_task_is_reported_at_once()
    {
        await using var api = await ApiHost.StartAsync(servers);

        var problem = await ApiAssert.ProblemAsync(
            await api.Admin.PostAsync("/api/v1/tasks", ApiHost.Json("""{"cron": "0 * * * *", "timezone": "Nowhere", "priority": -1}"""), Ct),
            HttpStatusCode.BadRequest, "invalid");

        Assert.Equal(["name", "priority", "task", "timezone"], problem.Fields.Order(StringComparer.Ordinal));
        Assert.Equal(0, await api.Db.CountAsync("periodic_tasks"));
    }

    [Fact]
    public async Task Creating_a_task_whose_name_is_taken_is_a_conflict_and_changes_nothing()
    {
        await using var api = await ApiHost.StartAsync(servers);
        await api.Db.ApplyAsync(new() { Tasks = [TestDatabase.Task("extract")] });

        var problem = await ApiAssert.ProblemAsync(
            await api.Admin.PostAsync("/api/v1/tasks", ApiHost.Json("""{"name": "extract", "task": "other", "cron": "0 0 * * *"}"""), Ct),
            HttpStatusCode.Conflict, "conflict");

        ApiAssert.Names(problem, "name", "exists already");
        await using var context = api.Db.Context();
        Assert.Equal("etl.extract", (await context.PeriodicTasks.SingleAsync(Ct)).Task);
    }

    [Fact]
    public async Task A_body_that_is_not_json_is_refused_with_415()
    {
        await using var api = await ApiHost.StartAsync(servers);

        // Routing refuses it before the endpoint runs, with a bare status (see ApiProblems.HandleErrors).
        using var response = await api.Admin.PostAsync("/api/v1/tasks", new StringContent("name: x"), Ct);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal(0, await api.Db.CountAsync("periodic_tasks"));
    }

    [Fact]
    public async Task Getting_a_task_shows_its_settings_and_edges_and_an_unknown_one_is_404()
    {
        await using var api = await ApiHost.StartAsync(servers);
        await api.Db.ApplyAsync(new()
        {
            Tasks = [TestDatabase.Task("extract"), TestDatabase.Task("transform")],
            Dependencies = [new("transform", "extract")],
        });

        var detail = await ApiAssert.ReadAsync<TaskDetail>(await api.ReadOnly.GetAsync("/api/v1/tasks/transform", Ct));
        var unknown = await ApiAssert.ProblemAsync(await api.ReadOnly.GetAsync("/api/v1/tasks/nope", Ct), HttpStatusCode.NotFound, "not_found");

        Assert.Equal(("transform", "etl.transform"), (detail.Summary.Name, detail.Summary.Task));
        Assert.Equal(("transform", "extract", "success"), (detail.DependsOn.Single().Depender, detail.DependsOn.Single().Dependee, detail.DependsOn.Single().Condition));
        Assert.Empty(detail.DependedBy);
        ApiAssert.Names(unknown, "task", "no task named 'nope'");
    }

    [Fact]
    public async Task Updating_a_task_replaces_its_settings_renames_it_and_keeps_its_cron_base()
    {
        await using var api = await ApiHost.StartAsync(servers);
        var created = await ApiAssert.ReadAsync<TaskDetail>(
            await api.Admin.PostAsync("/api/v1/tasks", ApiHost.Json("""{"name": "a", "task": "etl.a", "cron": "0 * * * *", "priority": 3}"""), Ct),
            HttpStatusCode.Created);
        api.Db.Clock.Advance(TimeSpan.FromHours(2));

        var updated = await ApiAssert.ReadAsync<TaskDetail>(
            await api.Admin.PutAsync("/api/v1/tasks/a", ApiHost.Json("""{"name": "b", "task": "etl.b", "cron": "30 * * * *", "max_retries": 2}"""), Ct));

        Assert.Equal((created.Summary.Id, "b", "etl.b", "0 30 * * * *"), (updated.Summary.Id, updated.Summary.Name, updated.Summary.Task, updated.Summary.Crontab));
        Assert.Equal((0, 2), (updated.Priority, updated.MaxRetries));
        Assert.Equal(created.CronBase, updated.CronBase);
        await ApiAssert.ProblemAsync(await api.Admin.GetAsync("/api/v1/tasks/a", Ct), HttpStatusCode.NotFound, "not_found");
        await using var context = api.Db.Context();
        Assert.Equal("b", (await context.PeriodicTasks.SingleAsync(Ct)).Name);
    }

    [Fact]
    public async Task An_update_without_a_name_keeps_the_routes_and_an_update_of_an_unknown_task_is_404()
    {
        await using var api = await ApiHost.StartAsync(servers);
        await api.Db.ApplyAsync(new() { Tasks = [TestDatabase.Task("a")] });

        var updated = await ApiAssert.ReadAsync<TaskDetail>(
            await api.Admin.PutAsync("/api/v1/tasks/a", ApiHost.Json("""{"task": "etl.a2", "cron": "0 * * * *"}"""), Ct));
        var unknown = await ApiAssert.ProblemAsync(
            await api.Admin.PutAsync("/api/v1/tasks/zzz", ApiHost.Json("""{"task": "x", "cron": "0 * * * *"}"""), Ct),
            HttpStatusCode.NotFound, "not_found");

        Assert.Equal(("a", "etl.a2"), (updated.Summary.Name, updated.Summary.Task));
        ApiAssert.Names(unknown, "task", "zzz");
        Assert.Equal(1, await api.Db.CountAsync("periodic_tasks"));
    }

    [Fact]
    public async Task An_invalid_update_saves_nothing()
    {
        await using var api = await ApiHost.StartAsync(servers);
        await api.Db.ApplyAsync(new() { Tasks = [TestDatabase.Task("a")] });
        var actions = await api.Db.CountAsync("user_actions");

        var problem = await ApiAssert.ProblemAsync(
            await api.Admin.PutAsync("/api/v1/tasks/a", ApiHost.Json("""{"task": "etl.a", "cron": "0 25 * * *"}"""), Ct),
            HttpStatusCode.BadRequest, "invalid");

        ApiAssert.Names(problem, "cron", "hour");
        Assert.Equal(actions, await api.Db.CountAsync("user_actions"));
        await using var context = api.Db.Context();
        Assert.Equal("0 */5 * * * *", (await context.PeriodicTasks.Include(t => t.Crontab).SingleAsync(Ct)).Crontab.Expression);
    }

    [Fact]
    public async Task Deleting_a_task_answers_204_and_refuses_while_a_task_depends_on_it()
    {
        await using var api = await ApiHost.StartAsync(servers);
        await api.Db.ApplyAsync(new()
        {
            Tasks = [TestDatabase.Task("extract"), TestDatabase.Task("transform")],
            Dependencies = [new("transform", "extract")],
        });

        var refused = await ApiAssert.ProblemAsync(await api.Admin.DeleteAsync("/api/v1/tasks/extract", Ct), HttpStatusCode.BadRequest, "invalid");
        Assert.Equal(2, await api.Db.CountAsync("periodic_tasks"));
        await ApiAssert.NoContentAsync(await api.Admin.DeleteAsync("/api/v1/tasks/transform", Ct));
        await ApiAssert.NoContentAsync(await api.Admin.DeleteAsync("/api/v1/tasks/extract", Ct));
        var unknown = await ApiAssert.ProblemAsync(await api.Admin.DeleteAsync("/api/v1/tasks/extract", Ct), HttpStatusCode.NotFound, "not_found");

        ApiAssert.Names(refused, "tasks[extract]", "dependee of 'transform'");
        ApiAssert.Names(unknown, "task", "extract");
        Assert.Equal((0L, 0L), (await api.Db.CountAsync("periodic_tasks"), await api.Db.CountAsync("task_dependencies")));
    }

    [Fact]
    public async Task The_task_list_filters_sorts_and_pages()
    {
        await using var api = await ApiHost.StartAsync(servers);
        await api.Db.ApplyAsync(new()
        {
            Tasks = [TestDatabase.Task("alpha"), TestDatabase.Task("beta") with { Enabled = false }, TestDatabase.Task("gamma"), TestDatabase.Task("delta")],
        });

        var first = await ApiAssert.ReadAsync<Page<TaskSummary>>(await api.ReadOnly.GetAsync("/api/v1/tasks?limit=2", Ct));
        var second = await ApiAssert.ReadAsync<Page<TaskSummary>>(await api.ReadOnly.GetAsync("/api/v1/tasks?limit=2&offset=2", Ct));
        var descending = await ApiAssert.ReadAsync<Page<TaskSummary>>(await api.ReadOnly.GetAsync("/api/v1/tasks?sort=name&desc=true", Ct));
        var enabled = await ApiAssert.ReadAsync<Page<TaskSummary>>(await api.ReadOnly.GetAsync("/api/v1/tasks?enabled=false", Ct));
        var search = await ApiAssert.ReadAsync<Page<TaskSummary>>(await api.ReadOnly.GetAsync("/api/v1/tasks?search=MM", Ct));

        Assert.Equal((4, 0, 2), (first.Total, first.Offset, first.Limit));
        Assert.Equal(["alpha", "beta"], first.Items.Select(t => t.Name));
        Assert.Equal(["delta", "gamma"], second.Items.Select(t => t.Name));
        Assert.Equal(["gamma", "delta", "beta", "alpha"], descending.Items.Select(t => t.Name));
        Assert.Equal(("beta", "disabled"), (enabled.Items.Single().Name, enabled.Items.Single().State));
        Assert.Equal("gamma", search.Items.Single().Name);
    }

    [Theory]
    [InlineData("offset=-1", "offset", "negative")]
    [InlineData("limit=0", "limit", "between 1 and 500")]
    [InlineData("limit=501", "limit", "between 1 and 500")]
    [InlineData("sort=colour", "sort", "not a sort key")]
    [InlineData("offset=abc", "offset", "abc")]
    [InlineData("enabled=perhaps", "enabled", "perhaps")]
    public async Task Bad_paging_of_the_task_list_is_refused_naming_the_parameter(string query, string field, string says)
    {
        await using var api = await ApiHost.StartAsync(servers);

        var problem = await ApiAssert.ProblemAsync(await api.ReadOnly.GetAsync($"/api/v1/tasks?{query}", Ct), HttpStatusCode.BadRequest, "invalid");

        ApiAssert.Names(problem, field, says);
    }

    [Fact]
    public async Task A_task_body_round_trips_through_the_public_record()
    {
        await using var api = await ApiHost.StartAsync(servers);
        var body = new TaskBody { Name = "typed", Task = "etl.typed", Cron = "15 * * * *", MaxRetries = 1 };

        var detail = await ApiAssert.ReadAsync<TaskDetail>(await api.Admin.PostAsJsonAsync("/api/v1/tasks", body, OperationsJson.Options, Ct), HttpStatusCode.Created);

        Assert.Equal(("typed", "0 15 * * * *", 1), (detail.Summary.Name, detail.Summary.Crontab, detail.MaxRetries));
    }
}
