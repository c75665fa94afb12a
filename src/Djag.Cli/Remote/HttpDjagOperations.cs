using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Djag.Persistence.Operations;
using Djag.Persistence.Schedules;
using Djag.Scheduling;
using Djag.Scheduling.ScheduleFiles;

namespace Djag.Cli.Remote;

/// <summary>
/// <see cref="IDjagOperations"/> over the HTTP API (docs: notes/contract.md, routes under <c>api/v1</c>),
/// so every command prints the same with <c>--server</c> as with <c>--db</c>. Bodies and answers are the
/// operation records in <see cref="OperationsJson.Options"/>; problem details come back as the exceptions
/// <see cref="DatabaseOperations"/> throws (<see cref="OperationException"/>, <see cref="ScheduleValidationException"/>),
/// with the same field and message. A server that cannot be reached, refuses the token or answers something
/// else is a <see cref="RemoteException"/>.
/// </summary>
internal sealed class HttpDjagOperations(HttpClient http) : IDjagOperations, IDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(100);

    public static HttpDjagOperations Create(HttpMessageHandler handler, Uri baseAddress, string token)
    {
        var http = new HttpClient(handler, disposeHandler: true) { BaseAddress = baseAddress, Timeout = Timeout };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return new HttpDjagOperations(http);
    }

    public void Dispose() => http.Dispose();

    public Task<Page<TaskSummary>> ListTasksAsync(TaskQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        return SendAsync<Page<TaskSummary>>(HttpMethod.Get, "api/v1/tasks" + Query(
            ("search", query.Search), ("enabled", Bool(query.Enabled)), ("running", Bool(query.Running)), ("sort", query.Sort),
            ("desc", Bool(query.Descending)), ("offset", Int(query.Offset)), ("limit", Int(query.Limit))), null, cancellationToken);
    }

    public Task<TaskDetail> GetTaskAsync(string name, CancellationToken cancellationToken = default) =>
        SendAsync<TaskDetail>(HttpMethod.Get, TaskPath(name), null, cancellationToken);

    public Task<Page<RunView>> ListRunsAsync(RunQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        return SendAsync<Page<RunView>>(HttpMethod.Get, "api/v1/runs" + Query(
            ("task", query.Task), ("state", query.State), ("outcome", query.Outcome), ("origin", query.Origin),
            ("offset", Int(query.Offset)), ("limit", Int(query.Limit))), null, cancellationToken);
    }

    public Task<RunView> GetRunAsync(long id, CancellationToken cancellationToken = default) =>
        SendAsync<RunView>(HttpMethod.Get, RunPath(id), null, cancellationToken);

    public Task<WhyView> WhyAsync(string name, CancellationToken cancellationToken = default) =>
        SendAsync<WhyView>(HttpMethod.Get, TaskPath(name) + "/why", null, cancellationToken);

    public Task<DagView> GetDagAsync(CancellationToken cancellationToken = default) =>
        SendAsync<DagView>(HttpMethod.Get, "api/v1/dag?format=json", null, cancellationToken);

    public Task<RunView> RunNowAsync(string name, CancellationToken cancellationToken = default) =>
        SendAsync<RunView>(HttpMethod.Post, TaskPath(name) + "/run-now", null, cancellationToken);

    public Task<TaskSummary> PauseAsync(string name, CancellationToken cancellationToken = default) =>
        SendAsync<TaskSummary>(HttpMethod.Post, TaskPath(name) + "/pause", null, cancellationToken);

    public Task<TaskSummary> ResumeAsync(string name, CancellationToken cancellationToken = default) =>
        SendAsync<TaskSummary>(HttpMethod.Post, TaskPath(name) + "/resume", null, cancellationToken);

    public Task<BackfillResult> BackfillAsync(string name, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default) =>
        SendAsync<BackfillResult>(HttpMethod.Post, TaskPath(name) + "/backfill", JsonContent.Create(new { from, to }, options: OperationsJson.Options), cancellationToken);

    public Task<RunView> RetryAsync(long runId, CancellationToken cancellationToken = default) =>
        SendAsync<RunView>(HttpMethod.Post, RunPath(runId) + "/retry", null, cancellationToken);

    public async Task<ScheduleDocument> ExportAsync(CancellationToken cancellationToken = default)
    {
        const string path = "api/v1/schedule?format=json";
        using var response = await SendAsync(HttpMethod.Get, path, null, scheduleChange: false, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        var parsed = ScheduleFile.Parse(text, new ScheduleFileOptions(Format: ScheduleFileFormat.Json));
        return parsed.Document
            ?? throw new RemoteException("server", $"GET {Url(path)}: the schedule the server sent does not parse: {string.Join("; ", parsed.Errors)}");
    }

    public Task<ApplyResult> ApplyAsync(ScheduleDocument document, bool prune, bool dryRun, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(document);

        // The file was parsed and checked here, so its errors name the user's paths; the server gets it in the
        // canonical JSON shape, without the simulate: section, which apply ignores.
        var body = new StringContent(ScheduleFile.ToJson(document with { Simulate = null }), Encoding.UTF8, "application/json");
        return SendAsync<ApplyResult>(
            HttpMethod.Put, "api/v1/schedule" + Query(("prune", Bool(prune)), ("dry_run", Bool(dryRun))), body, cancellationToken, scheduleChange: true);
    }

    private async Task<T> SendAsync<T>(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken, bool scheduleChange = false)
    {
        using var response = await SendAsync(method, path, content, scheduleChange, cancellationToken);
        try
        {
            return await response.Content.ReadFromJsonAsync<T>(OperationsJson.Options, cancellationToken)
                ?? throw new JsonException("the answer is null");
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException)
        {
            throw new RemoteException("server", $"{method} {Url(path)}: the answer is not the API's JSON: {ex.Message}", ex);
        }
    }

    /// <summary>The successful response; anything else becomes the exception it stands for.</summary>
    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, HttpContent? content, bool scheduleChange, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new RemoteException("server", $"cannot reach {http.BaseAddress}: {ex.Message}", ex);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new RemoteException("server", $"{method} {Url(path)}: no answer within {http.Timeout.TotalSeconds} s", ex);
        }

        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            throw Refusal(method, path, response.StatusCode, await ProblemDetails.ReadAsync(response, cancellationToken), scheduleChange);
        }
    }

    private Exception Refusal(HttpMethod method, string path, HttpStatusCode status, ProblemDetails? problem, bool scheduleChange)
    {
        var code = (int)status;
        var detail = problem?.Detail ?? problem?.Title;
        var suffix = detail is null ? "" : ": " + detail;
        if (status == HttpStatusCode.Unauthorized || problem?.Kind == "unauthorized")
        {
            return new RemoteException("token", "the server refused the token" + suffix);
        }

        if (status == HttpStatusCode.Forbidden || problem?.Kind == "forbidden")
        {
            return new RemoteException("token", "the token may not do this (a read_only token cannot write)" + suffix);
        }

        if (status == HttpStatusCode.RequestEntityTooLarge)
        {
            return OperationException.Invalid("request", "too large for the server (HTTP 413)" + suffix);
        }

        // Without the contract's "kind", a 404 is a wrong base address or route, not an unknown task.
        var kind = problem?.Kind switch
        {
            "invalid" => OperationErrorKind.Invalid,
            "not_found" => OperationErrorKind.NotFound,
            "conflict" => OperationErrorKind.Conflict,
            null when status == HttpStatusCode.BadRequest => OperationErrorKind.Invalid,
            null when status == HttpStatusCode.Conflict => OperationErrorKind.Conflict,
            _ => (OperationErrorKind?)null,
        };
        if (kind is not { } known)
        {
            return new RemoteException("server", $"{method} {Url(path)}: HTTP {code} {status}{suffix}");
        }

        var errors = problem?.Errors ?? [];
        var message = detail ?? $"HTTP {code} {status}";
        if (known == OperationErrorKind.Invalid && (scheduleChange || errors.Count > 1))
        {
            return new ScheduleValidationException(errors.Count > 0 ? errors : [new FieldError("schedule", message)]);
        }

        return errors.Count > 0 ? new OperationException(known, errors[0].Field, errors[0].Message) : new OperationException(known, "request", message);
    }

    private string Url(string path) => new Uri(http.BaseAddress!, path).ToString();

    private static string TaskPath(string name) => "api/v1/tasks/" + Uri.EscapeDataString(name);

    private static string RunPath(long id) => "api/v1/runs/" + Int(id);

    private static string Query(params (string Name, string? Value)[] parameters)
    {
        var given = parameters.Where(p => p.Value is not null).Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value!)}").ToList();
        return given.Count == 0 ? "" : "?" + string.Join('&', given);
    }

    private static string? Bool(bool? value) => value is { } b ? (b ? "true" : "false") : null;

    private static string Int(long value) => value.ToString(CultureInfo.InvariantCulture);
}
