using System.Net;
using System.Text;
using Djag.Api;
using Djag.IntegrationTests.Infrastructure;

namespace Djag.IntegrationTests.Api;

/// <summary>
/// The request body limit (DjagApiOptions.MaxRequestBodySize, 1 MiB) on Kestrel over loopback: the limit is a
/// per-request server feature, which TestServer does not implement.
/// </summary>
public sealed class ApiLimitTests(ServersFixture servers)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly int TooLarge = (int)new DjagApiOptions().MaxRequestBodySize + 1024;

    [Fact]
    public async Task A_task_body_above_the_limit_is_413_and_nothing_is_saved()
    {
        await using var api = await ApiHost.StartAsync(servers, kestrel: true);
        var body = $$"""{"name": "big", "task": "etl.big", "cron": "0 * * * *", "description": "{{new string('x', TooLarge)}}"}""";

        var problem = await ApiAssert.ProblemAsync(await api.Admin.PostAsync("/api/v1/tasks", ApiHost.Json(body), Ct), HttpStatusCode.RequestEntityTooLarge, "invalid");

        ApiAssert.Names(problem, "body", "too large");
        Assert.Equal(0, await api.Db.CountAsync("periodic_tasks"));
    }

    [Fact]
    public async Task A_schedule_file_above_the_limit_is_413_and_nothing_is_saved()
    {
        await using var api = await ApiHost.StartAsync(servers, kestrel: true);
        var file = new StringBuilder("tasks:\n");
        for (var i = 0; file.Length <= TooLarge; i++)
        {
            file.Append($"  - {{name: task{i:D6}, task: etl.t, cron: \"*/5 * * * *\", description: padding padding padding}}\n");
        }

        var problem = await ApiAssert.ProblemAsync(
            await api.Admin.PutAsync("/api/v1/schedule", new StringContent(file.ToString(), Encoding.UTF8, "application/yaml"), Ct),
            HttpStatusCode.RequestEntityTooLarge, "invalid");

        ApiAssert.Names(problem, "body", "too large");
        Assert.Equal(0, await api.Db.CountAsync("periodic_tasks"));
    }

    [Fact]
    public async Task A_body_under_the_limit_is_served_on_kestrel()
    {
        await using var api = await ApiHost.StartAsync(servers, kestrel: true);
        var body = $$"""{"name": "fits", "task": "etl.fits", "cron": "0 * * * *", "description": "{{new string('x', 100_000)}}"}""";

        using var response = await api.Admin.PostAsync("/api/v1/tasks", ApiHost.Json(body), Ct);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(1, await api.Db.CountAsync("periodic_tasks"));
    }
}
