using System.Net;
using Djag.Api;
using Djag.IntegrationTests.Infrastructure;
using Djag.IntegrationTests.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Djag.IntegrationTests.Api;

/// <summary>/crontabs: create, list, get, edit and delete the shared schedules.</summary>
public sealed class ApiCrontabTests(ServersFixture servers)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_crontab_is_created_listed_edited_and_deleted()
    {
        await using var api = await ApiHost.StartAsync(servers);

        var response = await api.Admin.PostAsync("/api/v1/crontabs", ApiHost.Json("""{"cron": "30 2 * * 1-5", "timezone": "America/New_York"}"""), Ct);
        var location = response.Headers.Location?.OriginalString;
        var created = await ApiAssert.ReadAsync<CrontabView>(response, HttpStatusCode.Created);
        var listed = await ApiAssert.ReadAsync<List<CrontabView>>(await api.ReadOnly.GetAsync("/api/v1/crontabs", Ct));
        var edited = await ApiAssert.ReadAsync<CrontabView>(await api.Admin.PutAsync(location, ApiHost.Json("""{"cron": "*/10 * * * * *"}"""), Ct));
        var got = await ApiAssert.ReadAsync<CrontabView>(await api.ReadOnly.GetAsync(location, Ct));
        var actionsBeforeDelete = await api.Db.CountAsync("user_actions");
        await ApiAssert.NoContentAsync(await api.Admin.DeleteAsync(location, Ct));

        Assert.Equal(("0 30 2 * * 1-5", "America/New_York"), (created.Cron, created.Timezone));
        Assert.Empty(created.Tasks);
        Assert.Equal($"/api/v1/crontabs/{created.Id}", location);
        Assert.Equivalent(created, Assert.Single(listed), strict: true);
        Assert.Equal((created.Id, "*/10 * * * * *", "UTC"), (edited.Id, edited.Cron, edited.Timezone));
        Assert.Equivalent(edited, got, strict: true);
        Assert.Equal(0, await api.Db.CountAsync("crontabs"));
        Assert.Equal(actionsBeforeDelete + 1, await api.Db.CountAsync("user_actions"));
        await ApiAssert.ProblemAsync(await api.ReadOnly.GetAsync(location, Ct), HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task A_crontab_lists_its_tasks_and_cannot_be_deleted_while_they_use_it()
    {
        await using var api = await ApiHost.StartAsync(servers);
        await api.Db.ApplyAsync(new() { Tasks = [TestDatabase.Task("b"), TestDatabase.Task("a")] });
        var crontab = Assert.Single(await ApiAssert.ReadAsync<List<CrontabView>>(await api.ReadOnly.GetAsync("/api/v1/crontabs", Ct)));

        var problem = await ApiAssert.ProblemAsync(await api.Admin.DeleteAsync($"/api/v1/crontabs/{crontab.Id}", Ct), HttpStatusCode.Conflict, "conflict");

        Assert.Equal(["a", "b"], crontab.Tasks);
        ApiAssert.Names(problem, "crontab", "'a', 'b'");
        Assert.Equal(1, await api.Db.CountAsync("crontabs"));
    }

    [Fact]
    public async Task Editing_a_crontab_reschedules_its_tasks()
    {
        await using var api = await ApiHost.StartAsync(servers);
        await api.Db.ApplyAsync(new() { Tasks = [TestDatabase.Task("a", "0 * * * *")] });
        await using var context = api.Db.Context();
        var id = await context.Crontabs.Select(c => c.Id).SingleAsync(Ct);

        await ApiAssert.ReadAsync<CrontabView>(await api.Admin.PutAsync($"/api/v1/crontabs/{id}", ApiHost.Json("""{"cron": "15 * * * *"}"""), Ct));
        var task = await ApiAssert.ReadAsync<Djag.Persistence.Operations.TaskDetail>(await api.ReadOnly.GetAsync("/api/v1/tasks/a", Ct));

        Assert.Equal("0 15 * * * *", task.Summary.Crontab);
        Assert.Equal(new DateTimeOffset(2026, 3, 1, 12, 15, 0, TimeSpan.Zero), task.Summary.NextFire);
    }

    [Theory]
    [InlineData("""{"cron": "0 0 32 * *"}""", "cron", "day")]
    [InlineData("""{"cron": "0 0 * * *", "timezone": "Moon/Base"}""", "timezone", "Moon/Base")]
    [InlineData("""{"timezone": "UTC"}""", "cron", "required")]
    [InlineData("""{"cron": 5}""", "cron", "wrong type")]
    public async Task An_invalid_crontab_is_refused_naming_the_field_and_nothing_is_saved(string body, string field, string says)
    {
        await using var api = await ApiHost.StartAsync(servers);
        await api.Db.ApplyAsync(new() { Tasks = [TestDatabase.Task("a")] });
        await using var context = api.Db.Context();
        var id = await context.Crontabs.Select(c => c.Id).SingleAsync(Ct);

        var create = await ApiAssert.ProblemAsync(await api.Admin.PostAsync("/api/v1/crontabs", ApiHost.Json(body), Ct), HttpStatusCode.BadRequest, "invalid");
        var edit = await ApiAssert.ProblemAsync(await api.Admin.PutAsync($"/api/v1/crontabs/{id}", ApiHost.Json(body), Ct), HttpStatusCode.BadRequest, "invalid");

        ApiAssert.Names(create, field, says);
        ApiAssert.Names(edit, field, says);
        Assert.Equal((1L, 1L), (await api.Db.CountAsync("crontabs"), await api.Db.CountAsync("user_actions")));
        Assert.Equal("*/5", (await context.Crontabs.AsNoTracking().SingleAsync(Ct)).Minute);
    }

    [Fact]
    public async Task An_unknown_crontab_is_404()
    {
        await using var api = await ApiHost.StartAsync(servers);

        var get = await ApiAssert.ProblemAsync(await api.ReadOnly.GetAsync("/api/v1/crontabs/77", Ct), HttpStatusCode.NotFound, "not_found");
        var put = await ApiAssert.ProblemAsync(await api.Admin.PutAsync("/api/v1/crontabs/77", ApiHost.Json("""{"cron": "0 0 * * *"}"""), Ct), HttpStatusCode.NotFound, "not_found");
        var delete = await ApiAssert.ProblemAsync(await api.Admin.DeleteAsync("/api/v1/crontabs/77", Ct), HttpStatusCode.NotFound, "not_found");

        Assert.All([get, put, delete], p => ApiAssert.Names(p, "crontab", "no crontab with id 77"));
        Assert.Equal(0, await api.Db.CountAsync("crontabs"));
    }
}
