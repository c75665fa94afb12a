using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Djag.IntegrationTests.Persistence;
using Djag.Persistence.Operations;
using Djag.Persistence.Schedules;
using Djag.Scheduling.ScheduleFiles;

namespace Djag.IntegrationTests.Cli;

/// <summary>
/// A stand-in for the HTTP API of notes/contract.md while the real one is written in parallel: the contract's
/// routes over <see cref="DatabaseOperations"/> on a test database, answers in <see cref="OperationsJson.Options"/>,
/// refusals as problem details with "kind" and "errors". It lets a test run one command with --db and with
/// --server and compare, which proves the CLI's client maps every record and error back unchanged.
/// </summary>
internal sealed class FakeApiServer(TestDatabase db, string token = FakeApiServer.Token) : HttpMessageHandler
{
    public const string Token = "djag_test";
    public const string Url = "http://djag.test/";

    public List<string> Requests { get; } = [];

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Requests.Add($"{request.Method} {request.RequestUri!.PathAndQuery}");
        if (request.Headers.Authorization?.ToString() != $"Bearer {token}")
        {
            return Problem(HttpStatusCode.Unauthorized, "unauthorized", "missing or unknown token", []);
        }

        await using var context = db.Context();
        var operations = new DatabaseOperations(context, db.Clock);
        try
        {
            return await RouteAsync(operations, request, cancellationToken);
        }
        catch (OperationException ex)
        {
            var (status, kind) = ex.Kind switch
            {
                OperationErrorKind.NotFound => (HttpStatusCode.NotFound, "not_found"),
                OperationErrorKind.Conflict => (HttpStatusCode.Conflict, "conflict"),
                _ => (HttpStatusCode.BadRequest, "invalid"),
            };
            return Problem(status, kind, ex.Message, [(ex.Field, ex.Message)]);
        }
        catch (ScheduleValidationException ex)
        {
            return Problem(HttpStatusCode.BadRequest, "invalid", "invalid schedule change", [.. ex.Errors.Select(e => (e.Field, e.Message))]);
        }
    }

    private static async Task<HttpResponseMessage> RouteAsync(DatabaseOperations operations, HttpRequestMessage request, CancellationToken ct)
    {
        var uri = request.RequestUri!;
        var query = Query(uri);
        var path = uri.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries).Skip(2).Select(Uri.UnescapeDataString).ToArray();
        var method = request.Method.Method;
        return (method, path) switch
        {
            ("GET", ["tasks"]) => Ok(await operations.ListTasksAsync(
                new TaskQuery(query.GetValueOrDefault("search"), Bool(query, "enabled"), Bool(query, "running"), query.GetValueOrDefault("sort") ?? "name",
                    Bool(query, "desc") ?? false, Int(query, "offset") ?? 0, Int(query, "limit") ?? 50), ct)),
            ("GET", ["tasks", var name]) => Ok(await operations.GetTaskAsync(name, ct)),
            ("GET", ["tasks", var name, "why"]) => Ok(await operations.WhyAsync(name, ct)),
            ("POST", ["tasks", var name, "run-now"]) => Ok(await operations.RunNowAsync(name, ct), HttpStatusCode.Created),
            ("POST", ["tasks", var name, "pause"]) => Ok(await operations.PauseAsync(name, ct)),
            ("POST", ["tasks", var name, "resume"]) => Ok(await operations.ResumeAsync(name, ct)),
            ("POST", ["tasks", var name, "backfill"]) => await BackfillAsync(operations, name, request, ct),
            ("GET", ["runs"]) => Ok(await operations.ListRunsAsync(
                new RunQuery(query.GetValueOrDefault("task"), query.GetValueOrDefault("state"), query.GetValueOrDefault("outcome"), query.GetValueOrDefault("origin"),
                    Int(query, "offset") ?? 0, Int(query, "limit") ?? 50), ct)),
            ("GET", ["runs", var id]) => Ok(await operations.GetRunAsync(long.Parse(id, CultureInfo.InvariantCulture), ct)),
            ("POST", ["runs", var id, "retry"]) => Ok(await operations.RetryAsync(long.Parse(id, CultureInfo.InvariantCulture), ct), HttpStatusCode.Created),
            ("GET", ["dag"]) => Ok(await operations.GetDagAsync(ct)),
            ("GET", ["schedule"]) => new HttpResponseMessage(HttpStatusCode.OK)
            {
                Content = new StringContent(ScheduleFile.ToJson(await operations.ExportAsync(ct)), Encoding.UTF8, "application/json"),
            },
            ("PUT", ["schedule"]) => await ApplyAsync(operations, request, query, ct),
            _ => new HttpResponseMessage(HttpStatusCode.NotFound),
        };
    }

    private static async Task<HttpResponseMessage> BackfillAsync(DatabaseOperations operations, string name, HttpRequestMessage request, CancellationToken ct)
    {
        var body = JsonNode.Parse(await request.Content!.ReadAsStringAsync(ct))!;
        var from = body["from"]!.GetValue<DateTimeOffset>();
        var to = body["to"]!.GetValue<DateTimeOffset>();
        return Ok(await operations.BackfillAsync(name, from, to, ct), HttpStatusCode.Created);
    }

    private static async Task<HttpResponseMessage> ApplyAsync(DatabaseOperations operations, HttpRequestMessage request, Dictionary<string, string> query, CancellationToken ct)
    {
        var text = await request.Content!.ReadAsStringAsync(ct);
        var parsed = ScheduleFile.Parse(text, new ScheduleFileOptions());
        if (parsed.Document is null)
        {
            return Problem(HttpStatusCode.BadRequest, "invalid", "the schedule file does not parse", [.. parsed.Errors.Select(e => (e.Path, e.Message))]);
        }

        return Ok(await operations.ApplyAsync(parsed.Document, Bool(query, "prune") ?? false, Bool(query, "dry_run") ?? false, ct));
    }

    private static HttpResponseMessage Ok<T>(T value, HttpStatusCode status = HttpStatusCode.OK) =>
        new(status) { Content = new StringContent(JsonSerializer.Serialize(value, OperationsJson.Options), Encoding.UTF8, "application/json") };

    public static HttpResponseMessage Problem(HttpStatusCode status, string kind, string detail, IReadOnlyList<(string Field, string Message)> errors)
    {
        var problem = new JsonObject
        {
            ["type"] = "about:blank",
            ["title"] = status.ToString(),
            ["status"] = (int)status,
            ["detail"] = detail,
            ["kind"] = kind,
            ["errors"] = new JsonArray([.. errors.Select(e => new JsonObject { ["field"] = e.Field, ["message"] = e.Message })]),
        };
        return new HttpResponseMessage(status) { Content = new StringContent(problem.ToJsonString(), Encoding.UTF8, "application/problem+json") };
    }

    private static Dictionary<string, string> Query(Uri uri) =>
        uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .ToDictionary(p => p[0], p => Uri.UnescapeDataString(p.Length > 1 ? p[1] : ""), StringComparer.Ordinal);

    private static bool? Bool(Dictionary<string, string> query, string name) => query.TryGetValue(name, out var v) ? bool.Parse(v) : null;

    private static int? Int(Dictionary<string, string> query, string name) =>
        query.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : null;
}
