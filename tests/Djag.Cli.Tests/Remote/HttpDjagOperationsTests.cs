using System.Net;
using System.Text.Json;
using Djag.Cli.Remote;
using Djag.Persistence.Operations;
using Djag.Persistence.Schedules;
using Djag.Scheduling;
using Djag.Scheduling.ScheduleFiles;

namespace Djag.Cli.Tests.Remote;

/// <summary>
/// The CLI's HTTP client against canned answers written by hand in the contract's shape (notes/contract.md):
/// routes, query strings, bodies, the token header, the JSON names, and problem details back to exceptions.
/// </summary>
public sealed class HttpDjagOperationsTests
{
    private static readonly Uri Base = new("https://djag.example.com/prefix/");

    private const string TaskSummaryJson = """
        {"id": 7, "name": "load", "task": "etl.load", "crontab": "0 0 * * * *", "timezone": "Europe/Berlin", "enabled": true,
         "running": 1, "last_cron": "2026-03-01T11:00:00+00:00", "last_cron_start": "2026-03-01T11:00:02+00:00",
         "last_cron_end": null, "total_run_count": 12, "next_fire": "2026-03-01T12:00:00+00:00", "state": "running"}
        """;

    [Fact]
    public async Task Task_list_sends_every_filter_and_the_token_and_reads_the_page()
    {
        var handler = CannedHandler.Json(HttpStatusCode.OK, $$"""{"items": [{{TaskSummaryJson}}], "total": 9, "offset": 1, "limit": 1}""");
        using var operations = HttpDjagOperations.Create(handler, Base, "djag_secret");

        var page = await operations.ListTasksAsync(new TaskQuery("a b&c", true, false, "last_cron_start", true, 1, 1), TestContext.Current.CancellationToken);

        var request = Assert.Single(handler.Requests);
        Assert.Equal(
            ("GET", "https://djag.example.com/prefix/api/v1/tasks?search=a%20b%26c&enabled=true&running=false&sort=last_cron_start&desc=true&offset=1&limit=1", "Bearer djag_secret"),
            (request.Method, request.Url, request.Authorization));
        Assert.Equal((9, 1, 1), (page.Total, page.Offset, page.Limit));
        var task = Assert.Single(page.Items);
        Assert.Equal(
            new TaskSummary(7, "load", "etl.load", "0 0 * * * *", "Europe/Berlin", true, 1, At(11, 0, 0), At(11, 0, 2), null, 12, At(12, 0, 0), "running"),
            task);
    }

    [Fact]
    public async Task Runs_are_read_with_their_snake_case_fields_and_omitted_filters_are_not_sent()
    {
        var handler = CannedHandler.Json(HttpStatusCode.OK, """
            {"items": [{"id": 3, "task": "load", "cron": "2026-03-01T11:00:00Z", "attempt": 2, "origin": "retry", "state": "finished",
              "outcome": "failure", "worker": "host-1", "not_before": null, "dispatched_at": "2026-03-01T11:00:01Z",
              "started_at": "2026-03-01T11:00:02Z", "finished_at": "2026-03-01T11:00:05Z", "duration_seconds": 3.0,
              "error": "boom", "output_tail": "out", "reason": null}],
             "total": 1, "offset": 0, "limit": 50}
            """);
        using var operations = HttpDjagOperations.Create(handler, Base, "t");

        var page = await operations.ListRunsAsync(new RunQuery(Task: "load", Outcome: "failure"), TestContext.Current.CancellationToken);

        Assert.Equal("https://djag.example.com/prefix/api/v1/runs?task=load&outcome=failure&offset=0&limit=50", Assert.Single(handler.Requests).Url);
        Assert.Equal(
            new RunView(3, "load", At(11, 0, 0), 2, "retry", "finished", "failure", "host-1", null, At(11, 0, 1), At(11, 0, 2), At(11, 0, 5), 3.0, "boom", "out", null),
            Assert.Single(page.Items));
    }

    [Fact]
    public async Task Operations_post_to_their_routes_with_escaped_names()
    {
        const string run = """{"id": 5, "task": "a b", "cron": "2026-03-01T11:00:00Z", "attempt": 1, "origin": "manual", "state": "scheduled"}""";
        var handler = new CannedHandler(r => Answer(r.RequestUri!.AbsolutePath switch
        {
            var p when p.EndsWith("/run-now", StringComparison.Ordinal) || p.EndsWith("/retry", StringComparison.Ordinal) => (HttpStatusCode.Created, run),
            var p when p.EndsWith("/backfill", StringComparison.Ordinal) => (HttpStatusCode.Created, """{"task": "a b", "run_ids": [8, 9], "already_ran": 1, "left_to_schedule": 2}"""),
            _ => (HttpStatusCode.OK, TaskSummaryJson),
        }));
        using var operations = HttpDjagOperations.Create(handler, Base, "t");
        var ct = TestContext.Current.CancellationToken;

        var queued = await operations.RunNowAsync("a b", ct);
        await operations.PauseAsync("a b", ct);
        await operations.ResumeAsync("a b", ct);
        await operations.RetryAsync(4, ct);
        var backfill = await operations.BackfillAsync("a b", At(8, 0, 0), At(11, 0, 0), ct);

        Assert.Equal(
            ["POST /prefix/api/v1/tasks/a%20b/run-now", "POST /prefix/api/v1/tasks/a%20b/pause", "POST /prefix/api/v1/tasks/a%20b/resume",
             "POST /prefix/api/v1/runs/4/retry", "POST /prefix/api/v1/tasks/a%20b/backfill"],
            handler.Requests.Select(r => $"{r.Method} {new Uri(r.Url).AbsolutePath}"));
        Assert.Equal((5L, "manual", (string?)null), (queued.Id, queued.Origin, queued.Worker));
        var body = JsonDocument.Parse(handler.Requests[^1].Body!).RootElement;
        Assert.Equal(("2026-03-01T08:00:00+00:00", "2026-03-01T11:00:00+00:00"), (body.GetProperty("from").GetString(), body.GetProperty("to").GetString()));
        Assert.Equal("application/json", handler.Requests[^1].ContentType);
        Assert.Equal([8L, 9L], backfill.RunIds);
        Assert.Equal((1, 2), (backfill.AlreadyRan, backfill.LeftToSchedule));
    }

    [Fact]
    public async Task Why_dag_and_detail_are_read_in_full()
    {
        var handler = new CannedHandler(r => Answer(r.RequestUri!.PathAndQuery switch
        {
            "/prefix/api/v1/tasks/load/why" => (HttpStatusCode.OK, """
                {"task": "load", "verdict": "waiting", "event": "2026-03-01T12:00:00Z", "reasons": ["waiting on load -> transform: x"],
                 "edges": [{"dependee": "transform", "future_depends": false, "condition": "completion", "resolved": false, "explanation": "x"}],
                 "running": 0, "max_running": 1, "next_event": "2026-03-01T12:00:00Z", "evaluated_at": "2026-03-01T12:05:00Z"}
                """),
            "/prefix/api/v1/dag?format=json" => (HttpStatusCode.OK, """
                {"nodes": [{"name": "a", "task": "etl.a", "state": "failed"}],
                 "edges": [{"depender": "a", "dependee": "a", "future_depends": true, "condition": "success", "change_dt": "2026-03-01T12:00:00Z"}]}
                """),
            _ => (HttpStatusCode.OK, $$"""
                {"summary": {{TaskSummaryJson}}, "cron_base": "2026-03-01T10:00:00Z", "args": "[1]", "kwargs": "{}", "headers": "{}",
                 "queue": "default", "priority": 2, "misfire": "coalesce", "grace_period": 5, "max_catchup": null, "max_running": 1,
                 "max_retries": 3, "retry_backoff": 10, "timeout": null, "description": "d", "date_changed": "2026-03-01T10:00:00Z",
                 "depends_on": [{"depender": "load", "dependee": "transform", "future_depends": false, "condition": "completion", "change_dt": "2026-03-01T10:00:00Z"}],
                 "depended_by": []}
                """),
        }));
        using var operations = HttpDjagOperations.Create(handler, Base, "t");
        var ct = TestContext.Current.CancellationToken;

        var why = await operations.WhyAsync("load", ct);
        var dag = await operations.GetDagAsync(ct);
        var detail = await operations.GetTaskAsync("load", ct);

        Assert.Equal(("waiting", At(12, 0, 0), (int?)1, At(12, 5, 0)), (why.Verdict, why.Event, why.MaxRunning, why.EvaluatedAt));
        Assert.Equal(new EdgeView("transform", false, "completion", false, "x"), Assert.Single(why.Edges));
        Assert.Equal(new DagNode("a", "etl.a", "failed"), Assert.Single(dag.Nodes));
        Assert.True(Assert.Single(dag.Edges).FutureDepends);
        Assert.Equal(("load", "coalesce", (int?)5, 3, "[1]"), (detail.Summary.Name, detail.Misfire, detail.GracePeriod, detail.MaxRetries, detail.Args));
        Assert.Equal("transform", Assert.Single(detail.DependsOn).Dependee);
    }

    [Fact]
    public async Task Apply_puts_the_document_as_a_schedule_file_and_reads_the_diff()
    {
        var handler = CannedHandler.Json(HttpStatusCode.OK, """
            {"tasks": [{"kind": "added", "name": "b"}, {"kind": "changed", "name": "a"}], "dependencies": [{"kind": "removed", "name": "a -> c"}],
             "dry_run": true, "is_empty": false}
            """);
        using var operations = HttpDjagOperations.Create(handler, Base, "t");
        var document = Parse("""
            tasks:
              - {name: a, task: etl.a, cron: "*/5 * * * *", timezone: Europe/Berlin, priority: 2}
              - {name: b, task: etl.b, cron: "0 * * * *", cron_base: "2026-01-01T00:00:00Z"}
            dependencies:
              - {depender: a, dependee: b, future_depends: true, condition: completion}
            simulate:
              from: "2026-03-01T00:00:00Z"
              to: "2026-03-02T00:00:00Z"
            """);

        var result = await operations.ApplyAsync(document, prune: true, dryRun: true, TestContext.Current.CancellationToken);

        var request = Assert.Single(handler.Requests);
        Assert.Equal(("PUT", "https://djag.example.com/prefix/api/v1/schedule?prune=true&dry_run=true", "application/json"), (request.Method, request.Url, request.ContentType));
        var sent = ScheduleFile.Parse(request.Body!, new ScheduleFileOptions());
        Assert.Equal(document with { Simulate = null }, sent.Document);
        Assert.DoesNotContain("simulate", request.Body, StringComparison.Ordinal);
        Assert.Equal(
            new ApplyResult([new DiffEntry(DiffKind.Added, "b"), new DiffEntry(DiffKind.Changed, "a")], [new DiffEntry(DiffKind.Removed, "a -> c")], true),
            result,
            new ApplyResultComparer());
    }

    [Fact]
    public async Task Export_reads_the_schedule_file_the_server_sends()
    {
        var handler = CannedHandler.Json(HttpStatusCode.OK, """{"tasks": [{"name": "a", "task": "etl.a", "cron": "0 * * * *", "timezone": "UTC", "cron_base": "2026-03-01T12:00:00Z"}]}""");
        using var operations = HttpDjagOperations.Create(handler, Base, "t");

        var document = await operations.ExportAsync(TestContext.Current.CancellationToken);

        Assert.Equal("https://djag.example.com/prefix/api/v1/schedule?format=json", Assert.Single(handler.Requests).Url);
        Assert.Equal(("a", NodaTime.Instant.FromUtc(2026, 3, 1, 12, 0)), (Assert.Single(document.Tasks).Name, document.Tasks[0].CronBase));
    }

    [Theory]
    [InlineData(HttpStatusCode.NotFound, "not_found", OperationErrorKind.NotFound)]
    [InlineData(HttpStatusCode.BadRequest, "invalid", OperationErrorKind.Invalid)]
    [InlineData(HttpStatusCode.Conflict, "conflict", OperationErrorKind.Conflict)]
    public async Task A_problem_becomes_the_operation_exception_with_its_field(HttpStatusCode status, string kind, OperationErrorKind expected)
    {
        var handler = CannedHandler.Json(status, $$"""
            {"type": "about:blank", "title": "t", "status": {{(int)status}}, "detail": "d", "kind": "{{kind}}",
             "errors": [{"field": "task", "message": "no task named 'x'"}]}
            """, "application/problem+json");
        using var operations = HttpDjagOperations.Create(handler, Base, "t");

        var error = await Assert.ThrowsAsync<OperationException>(() => operations.GetTaskAsync("x", TestContext.Current.CancellationToken));

        Assert.Equal((expected, "task", "no task named 'x'"), (error.Kind, error.Field, error.Message));
    }

    [Fact]
    public async Task A_rejected_schedule_change_becomes_a_validation_exception_with_every_error()
    {
        var handler = CannedHandler.Json(HttpStatusCode.BadRequest, """
            {"title": "invalid schedule change", "status": 400, "kind": "invalid",
             "errors": [{"field": "tasks[a].cron", "message": "bad"}, {"field": "dependencies", "message": "cycle"}]}
            """, "application/problem+json");
        using var operations = HttpDjagOperations.Create(handler, Base, "t");

        var error = await Assert.ThrowsAsync<ScheduleValidationException>(
            () => operations.ApplyAsync(Parse("tasks: []\n"), false, false, TestContext.Current.CancellationToken));

        Assert.Equal([new FieldError("tasks[a].cron", "bad"), new FieldError("dependencies", "cycle")], error.Errors);
    }

    [Fact]
    public async Task The_frameworks_validation_shape_still_names_the_field()
    {
        var handler = CannedHandler.Json(HttpStatusCode.BadRequest, """{"title": "One or more validation errors occurred.", "status": 400, "errors": {"limit": ["must be a number"]}}""");
        using var operations = HttpDjagOperations.Create(handler, Base, "t");

        var error = await Assert.ThrowsAsync<OperationException>(() => operations.ListRunsAsync(new RunQuery(), TestContext.Current.CancellationToken));

        Assert.Equal((OperationErrorKind.Invalid, "limit", "must be a number"), (error.Kind, error.Field, error.Message));
    }

    [Theory]
    [InlineData(HttpStatusCode.Unauthorized, "token", "the server refused the token: bad token")]
    [InlineData(HttpStatusCode.Forbidden, "token", "the token may not do this (a read_only token cannot write): bad token")]
    [InlineData(HttpStatusCode.InternalServerError, "server", "POST https://djag.example.com/prefix/api/v1/tasks/a/pause: HTTP 500 InternalServerError: bad token")]
    public async Task Refused_tokens_and_server_errors_are_remote_failures(HttpStatusCode status, string field, string message)
    {
        var handler = CannedHandler.Json(status, """{"status": 0, "detail": "bad token"}""", "application/problem+json");
        using var operations = HttpDjagOperations.Create(handler, Base, "t");

        var error = await Assert.ThrowsAsync<RemoteException>(() => operations.PauseAsync("a", TestContext.Current.CancellationToken));

        Assert.Equal((field, message), (error.Field, error.Message));
    }

    [Fact]
    public async Task A_404_without_the_contracts_kind_is_a_wrong_address_not_an_unknown_task()
    {
        var handler = CannedHandler.Json(HttpStatusCode.NotFound, "<html>not here</html>", "text/html");
        using var operations = HttpDjagOperations.Create(handler, Base, "t");

        var error = await Assert.ThrowsAsync<RemoteException>(() => operations.GetTaskAsync("a", TestContext.Current.CancellationToken));

        Assert.Equal(("server", "GET https://djag.example.com/prefix/api/v1/tasks/a: HTTP 404 NotFound"), (error.Field, error.Message));
    }

    [Fact]
    public async Task A_413_is_bad_input()
    {
        var handler = new CannedHandler(_ => new HttpResponseMessage(HttpStatusCode.RequestEntityTooLarge));
        using var operations = HttpDjagOperations.Create(handler, Base, "t");

        var error = await Assert.ThrowsAsync<OperationException>(() => operations.ApplyAsync(Parse("tasks: []\n"), false, false, TestContext.Current.CancellationToken));

        Assert.Equal((OperationErrorKind.Invalid, "request"), (error.Kind, error.Field));
    }

    [Fact]
    public async Task An_answer_that_is_not_the_apis_json_is_a_remote_failure()
    {
        var handler = CannedHandler.Json(HttpStatusCode.OK, "<html>proxy login</html>", "text/html");
        using var operations = HttpDjagOperations.Create(handler, Base, "t");

        var error = await Assert.ThrowsAsync<RemoteException>(() => operations.GetRunAsync(1, TestContext.Current.CancellationToken));

        Assert.Equal("server", error.Field);
        Assert.StartsWith("GET https://djag.example.com/prefix/api/v1/runs/1: the answer is not the API's JSON: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_network_failure_through_the_cli_exits_1_naming_the_server()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var console = new CliConsole(output, error, TimeProvider.System)
        {
            HttpHandler = () => new CannedHandler(_ => throw new HttpRequestException("Connection refused (djag.example.com:443)")),
        };

        var exit = await DjagCommandLine.InvokeAsync(["runs", "list", "--server", "https://djag.example.com/prefix", "--token", "t"], console, TestContext.Current.CancellationToken);

        Assert.Equal(ExitCodes.Failed, exit);
        Assert.Equal("error: server: cannot reach https://djag.example.com/prefix/: Connection refused (djag.example.com:443)\n", error.ToString().ReplaceLineEndings("\n"));
        Assert.Equal("", output.ToString());
    }

    private static DateTimeOffset At(int hour, int minute, int second) => new(2026, 3, 1, hour, minute, second, TimeSpan.Zero);

    private static HttpResponseMessage Answer((HttpStatusCode Status, string Json) answer) =>
        new(answer.Status) { Content = new StringContent(answer.Json, System.Text.Encoding.UTF8, "application/json") };

    private static ScheduleDocument Parse(string yaml) =>
        ScheduleFile.Parse(yaml, new ScheduleFileOptions()).Document ?? throw new InvalidOperationException("bad test file");

    /// <summary>Records with lists compare by reference; this compares the entries.</summary>
    private sealed class ApplyResultComparer : IEqualityComparer<ApplyResult>
    {
        public bool Equals(ApplyResult? x, ApplyResult? y) =>
            x is not null && y is not null && x.DryRun == y.DryRun && x.Tasks.SequenceEqual(y.Tasks) && x.Dependencies.SequenceEqual(y.Dependencies);

        public int GetHashCode(ApplyResult obj) => obj.Tasks.Count;
    }
}
