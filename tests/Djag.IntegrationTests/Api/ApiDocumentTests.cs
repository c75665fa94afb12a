using System.Net;
using System.Text.Json;
using Djag.IntegrationTests.Infrastructure;

namespace Djag.IntegrationTests.Api;

/// <summary>The OpenAPI document describes every route and the token scheme, and is served without a token.</summary>
public sealed class ApiDocumentTests(ServersFixture servers)
{
    private static readonly (string Path, string[] Methods)[] Routes =
    [
        ("/api/v1/health", ["get"]),
        ("/api/v1/tasks", ["get", "post"]),
        ("/api/v1/tasks/{name}", ["get", "put", "delete"]),
        ("/api/v1/tasks/{name}/why", ["get"]),
        ("/api/v1/tasks/{name}/run-now", ["post"]),
        ("/api/v1/tasks/{name}/pause", ["post"]),
        ("/api/v1/tasks/{name}/resume", ["post"]),
        ("/api/v1/tasks/{name}/backfill", ["post"]),
        ("/api/v1/crontabs", ["get", "post"]),
        ("/api/v1/crontabs/{id}", ["get", "put", "delete"]),
        ("/api/v1/dependencies", ["get"]),
        ("/api/v1/dependencies/{depender}/{dependee}", ["put", "delete"]),
        ("/api/v1/schedule", ["get", "put"]),
        ("/api/v1/runs", ["get"]),
        ("/api/v1/runs/{id}", ["get"]),
        ("/api/v1/runs/{id}/retry", ["post"]),
        ("/api/v1/dag", ["get"]),
        ("/api/v1/workers", ["get"]),
    ];

    [Fact]
    public async Task The_openapi_document_lists_every_route()
    {
        await using var api = await ApiHost.StartAsync(servers);

        using var response = await api.Anonymous.GetAsync("/api/v1/openapi.json", TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;

        var paths = root.GetProperty("paths");
        Assert.Equal(Routes.Select(r => r.Path).Order(StringComparer.Ordinal), paths.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        foreach (var (path, methods) in Routes)
        {
            Assert.Equal(methods.Order(StringComparer.Ordinal), paths.GetProperty(path).EnumerateObject().Select(m => m.Name).Where(m => m != "parameters").Order(StringComparer.Ordinal));
        }

        Assert.Equal("http", root.GetProperty("components").GetProperty("securitySchemes").GetProperty("DjagToken").GetProperty("type").GetString());
        Assert.Equal(0, paths.GetProperty("/api/v1/health").GetProperty("get").GetProperty("security").GetArrayLength());

        // The schemas are those of the wire: snake_case names.
        var summary = root.GetProperty("components").GetProperty("schemas").GetProperty("TaskSummary").GetProperty("properties");
        Assert.True(summary.TryGetProperty("last_cron_start", out _), summary.ToString());
        var body415 = paths.GetProperty("/api/v1/tasks").GetProperty("post").GetProperty("requestBody").GetProperty("content");
        Assert.True(body415.TryGetProperty("application/json", out _));
    }
}
