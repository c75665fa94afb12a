using System.Net;
using Djag.IntegrationTests.Infrastructure;
using Djag.IntegrationTests.Persistence;
using Djag.Persistence.Accounts;
using Djag.Persistence.Operations;
using Microsoft.EntityFrameworkCore;

namespace Djag.IntegrationTests.Api;

/// <summary>Token authentication and its scopes: read_only reads, admin also writes and operates.</summary>
public sealed class ApiAuthTests(ServersFixture servers)
{
    private const string NewTask = """{"name": "new", "task": "etl.new", "cron": "0 * * * *"}""";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Health_answers_without_a_token()
    {
        await using var api = await ApiHost.StartAsync(servers);

        var body = await ApiAssert.TextAsync(await api.Anonymous.GetAsync("/api/v1/health", Ct), "application/json");

        Assert.Equal("""{"status":"ok"}""", body);
    }

    [Theory]
    [InlineData("/api/v1/tasks")]
    [InlineData("/api/v1/runs")]
    [InlineData("/api/v1/schedule")]
    [InlineData("/api/v1/dag")]
    [InlineData("/api/v1/crontabs")]
    [InlineData("/api/v1/dependencies")]
    [InlineData("/api/v1/workers")]
    public async Task Reading_without_a_token_is_401(string route)
    {
        await using var api = await ApiHost.StartAsync(servers);

        using var response = await api.Anonymous.GetAsync(route, Ct);

        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        var problem = await ApiAssert.ProblemAsync(response, HttpStatusCode.Unauthorized, "unauthorized");
        Assert.Contains("token is required", problem.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("djag_not-a-real-token")]
    [InlineData("")]
    public async Task A_bad_token_is_401_and_writes_nothing(string token)
    {
        await using var api = await ApiHost.StartAsync(servers);
        using var client = api.WithToken(token);

        var read = await ApiAssert.ProblemAsync(await client.GetAsync("/api/v1/tasks", Ct), HttpStatusCode.Unauthorized, "unauthorized");
        var write = await ApiAssert.ProblemAsync(await client.PostAsync("/api/v1/tasks", ApiHost.Json(NewTask), Ct), HttpStatusCode.Unauthorized, "unauthorized");

        Assert.DoesNotContain("token is required", read.Detail, StringComparison.Ordinal);
        Assert.Equal(read.Detail, write.Detail);
        Assert.Equal(0, await api.Db.CountAsync("periodic_tasks"));
    }

    [Fact]
    public async Task A_revoked_token_is_401()
    {
        await using var api = await ApiHost.StartAsync(servers);
        string token;
        await using (var context = api.Db.Context())
        {
            var accounts = new AccountService(context, api.Db.Clock);
            token = await accounts.CreateTokenAsync("short-lived", Roles.Admin, Ct);
            using var before = api.WithToken(token);
            await ApiAssert.ReadAsync<Page<TaskSummary>>(await before.GetAsync("/api/v1/tasks", Ct));
            await accounts.RevokeTokenAsync("short-lived", Ct);
        }

        using var client = api.WithToken(token);
        await ApiAssert.ProblemAsync(await client.GetAsync("/api/v1/tasks", Ct), HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task A_read_only_token_reads()
    {
        await using var api = await ApiHost.StartAsync(servers);
        await api.Db.ApplyAsync(new() { Tasks = [TestDatabase.Task("a")] });

        var page = await ApiAssert.ReadAsync<Page<TaskSummary>>(await api.ReadOnly.GetAsync("/api/v1/tasks", Ct));

        Assert.Equal("a", page.Items.Single().Name);
    }

    public static TheoryData<string, string, string?> Writes => new()
    {
        { "POST", "/api/v1/tasks", NewTask },
        { "PUT", "/api/v1/tasks/a", """{"task": "etl.changed", "cron": "0 * * * *"}""" },
        { "DELETE", "/api/v1/tasks/a", null },
        { "POST", "/api/v1/tasks/a/run-now", null },
        { "POST", "/api/v1/tasks/a/pause", null },
        { "POST", "/api/v1/tasks/a/resume", null },
        { "POST", "/api/v1/tasks/a/backfill", """{"from": "2026-03-01T00:00:00Z", "to": "2026-03-01T12:00:00Z"}""" },
        { "POST", "/api/v1/crontabs", """{"cron": "0 0 * * *"}""" },
        { "PUT", "/api/v1/crontabs/1", """{"cron": "0 0 * * *"}""" },
        { "DELETE", "/api/v1/crontabs/1", null },
        { "PUT", "/api/v1/dependencies/a/a", """{"future_depends": true}""" },
        { "DELETE", "/api/v1/dependencies/a/a", null },
        { "PUT", "/api/v1/schedule?prune=true", """{"tasks": []}""" },
        { "POST", "/api/v1/runs/1/retry", null },
    };

    [Theory]
    [MemberData(nameof(Writes))]
    public async Task A_read_only_token_writing_is_403_and_changes_nothing(string method, string route, string? body)
    {
        await using var api = await ApiHost.StartAsync(servers);
        await api.Db.ApplyAsync(new() { Tasks = [TestDatabase.Task("a")] });
        var before = await SnapshotAsync(api.Db);

        using var request = new HttpRequestMessage(new HttpMethod(method), route) { Content = body is null ? null : ApiHost.Json(body) };
        var problem = await ApiAssert.ProblemAsync(await api.ReadOnly.SendAsync(request, Ct), HttpStatusCode.Forbidden, "forbidden");

        Assert.Contains("read_only", problem.Detail, StringComparison.Ordinal);
        Assert.Equal(before, await SnapshotAsync(api.Db));
    }

    [Fact]
    public async Task An_admin_token_writes()
    {
        await using var api = await ApiHost.StartAsync(servers);

        await ApiAssert.ReadAsync<TaskDetail>(await api.Admin.PostAsync("/api/v1/tasks", ApiHost.Json(NewTask), Ct), HttpStatusCode.Created);

        Assert.Equal(1, await api.Db.CountAsync("periodic_tasks"));
    }

    private static async Task<string> SnapshotAsync(TestDatabase db)
    {
        await using var context = db.Context();
        var tasks = await context.PeriodicTasks.Include(t => t.Crontab).OrderBy(t => t.Id)
            .Select(t => $"{t.Id}:{t.Name}:{t.Task}:{t.Enabled}:{t.Crontab.Minute}")
            .ToListAsync(Ct);
        var counts = new List<long>();
        foreach (var table in new[] { "crontabs", "task_dependencies", "runs", "user_actions" })
        {
            counts.Add(await db.CountAsync(table));
        }

        return string.Join(" ", tasks.Concat(counts.Select(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture))));
    }
}
