using System.Net;
using System.Text.Json;
using Djag.Contracts;
using Djag.Hosting.Nats;
using Djag.IntegrationTests.Infrastructure;
using Djag.IntegrationTests.Persistence;
using Djag.Persistence.Operations;
using Djag.Persistence.Runs;
using Microsoft.EntityFrameworkCore;
using NATS.Net;
using NodaTime;

namespace Djag.IntegrationTests.Api;

/// <summary>Run-now, pause, resume, backfill, retry, why, runs, the DAG and the workers.</summary>
public sealed class ApiOperationTests(ServersFixture servers)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Run_now_adds_a_scheduled_manual_run()
    {
        await using var api = await ApiHost.StartAsync(servers);
        await api.Db.ApplyAsync(new() { Tasks = [TestDatabase.Task("report")] });

        var response = await api.Admin.PostAsync("/api/v1/tasks/report/run-now", null, Ct);

        var location = response.Headers.Location?.OriginalString;
        var run = await ApiAssert.ReadAsync<RunView>(response, HttpStatusCode.Created);
        Assert.Equal(("report", RunStates.Scheduled, RunOrigins.Manual, 1), (run.Task, run.State, run.Origin, run.Attempt));
        Assert.Equal(api.Db.Clock.GetUtcNow(), run.Cron);
        Assert.Equal($"/api/v1/runs/{run.Id}", location);
        await using var context = api.Db.Context();
        var row = await context.Runs.SingleAsync(Ct);
        Assert.Equal((run.Id, RunStates.Scheduled, RunOrigins.Manual), (row.Id, row.State, row.Origin));
        Assert.Equal(run, await ApiAssert.ReadAsync<RunView>(await api.ReadOnly.GetAsync(location, Ct)));
    }

    [Fact]
    public async Task Run_now_of_an_unknown_task_is_404_and_adds_no_run()
    {
        await using var api = await ApiHost.StartAsync(servers);

        var problem = await ApiAssert.ProblemAsync(await api.Admin.PostAsync("/api/v1/tasks/ghost/run-now", null, Ct), HttpStatusCode.NotFound, "not_found");

        ApiAssert.Names(problem, "task", "ghost");
        Assert.Equal(0, await api.Db.CountAsync("runs"));
    }

    [Fact]
    public async Task Pause_disables_the_task_and_resume_enables_it_through_the_write_path()
    {
        await using var api = await ApiHost.StartAsync(servers);
        await api.Db.ApplyAsync(new() { Tasks = [TestDatabase.Task("report")] });
        var actions = await api.Db.CountAsync("user_actions");

        var paused = await ApiAssert.ReadAsync<TaskSummary>(await api.Admin.PostAsync("/api/v1/tasks/report/pause", null, Ct));
        bool enabledWhilePaused;
        await using (var context = api.Db.Context())
        {
            enabledWhilePaused = (await context.PeriodicTasks.SingleAsync(Ct)).Enabled;
        }

        var resumed = await ApiAssert.ReadAsync<TaskSummary>(await api.Admin.PostAsync("/api/v1/tasks/report/resume", null, Ct));

        Assert.Equal((false, TaskStates.Disabled, (DateTimeOffset?)null), (paused.Enabled, paused.State, paused.NextFire));
        Assert.False(enabledWhilePaused);
        Assert.Equal((true, TaskStates.Waiting), (resumed.Enabled, resumed.State));
        Assert.Equal(actions + 2, await api.Db.CountAsync("user_actions"));
        await using var after = api.Db.Context();
        Assert.True((await after.PeriodicTasks.SingleAsync(Ct)).Enabled);
    }

    [Fact]
    public async Task Backfill_queues_a_scheduled_run_for_each_past_event_without_one()
    {
        await using var api = await ApiHost.StartAsync(servers);
        await api.Db.ApplyAsync(new() { Tasks = [TestDatabase.Task("hourly", "0 * * * *") with { CronBase = Instant.FromUtc(2026, 3, 1, 10, 0) }] });

        var response = await api.Admin.PostAsync("/api/v1/tasks/hourly/backfill",
            ApiHost.Json("""{"from": "2026-03-01T06:00:00Z", "to": "2026-03-01T12:00:00Z"}"""), Ct);

        var result = await ApiAssert.ReadAsync<BackfillResult>(response, HttpStatusCode.Created);
        Assert.Equal(("hourly", 5, 0, 2), (result.Task, result.RunIds.Count, result.AlreadyRan, result.LeftToSchedule));
        await using var context = api.Db.Context();
        var runs = await context.Runs.OrderBy(r => r.Cron).ToListAsync(Ct);
        Assert.Equal(result.RunIds.Order(), runs.Select(r => r.Id).Order());
        Assert.All(runs, r => Assert.Equal((RunStates.Scheduled, RunOrigins.Backfill, 1), (r.State, r.Origin, r.Attempt)));
        Assert.Equal(Enumerable.Range(6, 5).Select(h => Instant.FromUtc(2026, 3, 1, h, 0)), runs.Select(r => r.Cron));
    }

    [Theory]
    [InlineData("""{"from": "2026-03-01T06:00:00Z"}""", "to", "required")]
    [InlineData("""{"from": "2026-03-01T06:00:00Z", "to": "2026-03-01T05:00:00Z"}""", "to", "before from")]
    [InlineData("""{"from": "six o'clock", "to": "2026-03-01T05:00:00Z"}""", "from", "")]
    public async Task A_bad_backfill_range_is_refused_naming_the_field_and_queues_nothing(string body, string field, string says)
    {
        await using var api = await ApiHost.StartAsync(servers);
        await api.Db.ApplyAsync(new() { Tasks = [TestDatabase.Task("hourly", "0 * * * *")] });

        var problem = await ApiAssert.ProblemAsync(await api.Admin.PostAsync("/api/v1/tasks/hourly/backfill", ApiHost.Json(body), Ct), HttpStatusCode.BadRequest, "invalid");

        ApiAssert.Names(problem, field, says);
        Assert.Equal(0, await api.Db.CountAsync("runs"));
    }

    [Fact]
    public async Task Retry_queues_the_next_attempt_of_a_failed_run_and_refuses_twice()
    {
        await using var api = await ApiHost.StartAsync(servers);
        await api.Db.ApplyAsync(new() { Tasks = [TestDatabase.Task("load")] });
        var failed = await AddRunAsync(api.Db, "load", RunStates.Finished, RunOutcomes.Failure);

        var response = await api.Admin.PostAsync($"/api/v1/runs/{failed}/retry", null, Ct);
        var retry = await ApiAssert.ReadAsync<RunView>(response, HttpStatusCode.Created);
        var again = await ApiAssert.ProblemAsync(await api.Admin.PostAsync($"/api/v1/runs/{failed}/retry", null, Ct), HttpStatusCode.Conflict, "conflict");
        var unknown = await ApiAssert.ProblemAsync(await api.Admin.PostAsync("/api/v1/runs/999999/retry", null, Ct), HttpStatusCode.NotFound, "not_found");

        Assert.Equal(("load", 2, RunOrigins.Retry, RunStates.Scheduled), (retry.Task, retry.Attempt, retry.Origin, retry.State));
        ApiAssert.Names(again, "run_id", "already retried");
        ApiAssert.Names(unknown, "run_id", "999999");
        await using var context = api.Db.Context();
        var rows = await context.Runs.OrderBy(r => r.Id).ToListAsync(Ct);
        Assert.Equal([(1, RunOrigins.Cron), (2, RunOrigins.Retry)], rows.Select(r => (r.Attempt, r.Origin)));
        Assert.Equal(rows[0].Cron, rows[1].Cron);
    }

    [Fact]
    public async Task Retrying_a_run_that_succeeded_is_a_conflict()
    {
        await using var api = await ApiHost.StartAsync(servers);
        await api.Db.ApplyAsync(new() { Tasks = [TestDatabase.Task("load")] });
        var succeeded = await AddRunAsync(api.Db, "load", RunStates.Finished, RunOutcomes.Success);

        var problem = await ApiAssert.ProblemAsync(await api.Admin.PostAsync($"/api/v1/runs/{succeeded}/retry", null, Ct), HttpStatusCode.Conflict, "conflict");

        ApiAssert.Names(problem, "run_id", "only a failed or lost run");
        Assert.Equal(1, await api.Db.CountAsync("runs"));
    }

    [Fact]
    public async Task The_run_list_filters_and_pages_newest_first()
    {
        await using var api = await ApiHost.StartAsync(servers);
        await api.Db.ApplyAsync(new() { Tasks = [TestDatabase.Task("a"), TestDatabase.Task("b")] });
        var first = await AddRunAsync(api.Db, "a", RunStates.Finished, RunOutcomes.Failure);
        var second = await AddRunAsync(api.Db, "b", RunStates.Finished, RunOutcomes.Success);
        var third = await AddRunAsync(api.Db, "a", RunStates.Running, null);

        var all = await ApiAssert.ReadAsync<Page<RunView>>(await api.ReadOnly.GetAsync("/api/v1/runs", Ct));
        var ofA = await ApiAssert.ReadAsync<Page<RunView>>(await api.ReadOnly.GetAsync("/api/v1/runs?task=a", Ct));
        var failed = await ApiAssert.ReadAsync<Page<RunView>>(await api.ReadOnly.GetAsync("/api/v1/runs?outcome=failure", Ct));
        var paged = await ApiAssert.ReadAsync<Page<RunView>>(await api.ReadOnly.GetAsync("/api/v1/runs?offset=1&limit=1", Ct));
        var badState = await ApiAssert.ProblemAsync(await api.ReadOnly.GetAsync("/api/v1/runs?state=sleeping", Ct), HttpStatusCode.BadRequest, "invalid");
        var unknownTask = await ApiAssert.ProblemAsync(await api.ReadOnly.GetAsync("/api/v1/runs?task=zzz", Ct), HttpStatusCode.NotFound, "not_found");
        var unknownRun = await ApiAssert.ProblemAsync(await api.ReadOnly.GetAsync("/api/v1/runs/424242", Ct), HttpStatusCode.NotFound, "not_found");
        var badLimit = await ApiAssert.ProblemAsync(await api.ReadOnly.GetAsync("/api/v1/runs?limit=-3", Ct), HttpStatusCode.BadRequest, "invalid");

        Assert.Equal([third, second, first], all.Items.Select(r => r.Id));
        Assert.Equal(3, all.Total);
        Assert.Equal([third, first], ofA.Items.Select(r => r.Id));
        Assert.Equal(first, failed.Items.Single().Id);
        Assert.Equal((3, second), (paged.Total, paged.Items.Single().Id));
        ApiAssert.Names(badState, "state", "sleeping");
        ApiAssert.Names(unknownTask, "task", "zzz");
        ApiAssert.Names(unknownRun, "run_id", "424242");
        ApiAssert.Names(badLimit, "limit", "between 1 and 500");
    }

    [Fact]
    public async Task Why_answers_the_cores_verdict()
    {
        await using var api = await ApiHost.StartAsync(servers);
        await api.Db.ApplyAsync(new()
        {
            Tasks =
            [
                TestDatabase.Task("extract", "0 * * * *") with { CronBase = Instant.FromUtc(2026, 3, 1, 10, 0) },
                TestDatabase.Task("transform", "0 * * * *") with { CronBase = Instant.FromUtc(2026, 3, 1, 10, 0) },
                TestDatabase.Task("idle", "0 0 1 1 *"),
            ],
            Dependencies = [new("transform", "extract")],
        });

        var transform = await ApiAssert.ReadAsync<WhyView>(await api.ReadOnly.GetAsync("/api/v1/tasks/transform/why", Ct));
        var idle = await ApiAssert.ReadAsync<WhyView>(await api.ReadOnly.GetAsync("/api/v1/tasks/idle/why", Ct));
        var unknown = await ApiAssert.ProblemAsync(await api.ReadOnly.GetAsync("/api/v1/tasks/zzz/why", Ct), HttpStatusCode.NotFound, "not_found");

        await using var context = api.Db.Context();
        var core = await new DatabaseOperations(context, api.Db.Clock).WhyAsync("transform", Ct);
        Assert.Equal(JsonSerializer.Serialize(core, OperationsJson.Options), JsonSerializer.Serialize(transform, OperationsJson.Options));
        Assert.Equal(WhyVerdicts.Waiting, transform.Verdict);
        Assert.Equal("extract", transform.Edges.Single().Dependee);
        Assert.False(transform.Edges.Single().Resolved);
        Assert.Equal((WhyVerdicts.NotDue, new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero)), (idle.Verdict, idle.NextEvent));
        ApiAssert.Names(unknown, "task", "zzz");
    }

    [Fact]
    public async Task The_dag_is_served_as_json_and_as_dot()
    {
        await using var api = await ApiHost.StartAsync(servers);
        await api.Db.ApplyAsync(new()
        {
            Tasks = [TestDatabase.Task("extract"), TestDatabase.Task("transform") with { Enabled = false }],
            Dependencies = [new("transform", "extract", FutureDepends: true)],
        });

        var dag = await ApiAssert.ReadAsync<DagView>(await api.ReadOnly.GetAsync("/api/v1/dag", Ct));
        var json = await ApiAssert.ReadAsync<DagView>(await api.ReadOnly.GetAsync("/api/v1/dag?format=json", Ct));
        var dot = await ApiAssert.TextAsync(await api.ReadOnly.GetAsync("/api/v1/dag?format=dot", Ct), "text/vnd.graphviz");
        var bad = await ApiAssert.ProblemAsync(await api.ReadOnly.GetAsync("/api/v1/dag?format=png", Ct), HttpStatusCode.BadRequest, "invalid");

        Assert.Equal([("extract", TaskStates.Waiting), ("transform", TaskStates.Disabled)], dag.Nodes.Select(n => (n.Name, n.State)));
        Assert.Equal(("transform", "extract", true), (dag.Edges.Single().Depender, dag.Edges.Single().Dependee, dag.Edges.Single().FutureDepends));
        Assert.Equal(dag.Nodes, json.Nodes);
        Assert.Equal(dag.ToDot(), dot);
        Assert.Contains("\"extract\" -> \"transform\" [style=dashed", dot, StringComparison.Ordinal);
        ApiAssert.Names(bad, "format", "png");
    }

    [Fact]
    public async Task Workers_lists_the_heartbeats_in_nats()
    {
        await using var api = await ApiHost.StartAsync(servers);
        await using var nats = new NatsClient(servers.Nats.Url);
        var js = nats.CreateJetStreamContext();
        var buckets = await DjagNatsSetup.EnsureStreamAndBucketsAsync(js, nats.CreateKeyValueStoreContext(), DjagNatsOptions.DefaultReplicas, Ct);
        var id = "api-test-" + servers.NewSubjectPrefix();
        var heartbeat = new WorkerHeartbeat
        {
            Worker = id,
            Host = "box",
            ProcessId = 42,
            Queues = ["default", "bulk"],
            Concurrency = 4,
            RunningRuns = [7],
            StartedAt = new DateTimeOffset(2026, 3, 1, 11, 0, 0, TimeSpan.Zero),
            At = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero),
        };
        await buckets.Workers.PutAsync(id, heartbeat, DjagSerializers.WorkerHeartbeat, cancellationToken: Ct);
        try
        {
            using var response = await api.ReadOnly.GetAsync("/api/v1/workers", Ct);
            var body = await response.Content.ReadAsStringAsync(Ct);
            Assert.True(response.StatusCode == HttpStatusCode.OK, body);

            using var document = JsonDocument.Parse(body);
            var listed = Assert.Single(document.RootElement.EnumerateArray(), w => w.GetProperty("worker").GetString() == id);
            Assert.Equal(("box", 42, 4), (listed.GetProperty("host").GetString(), listed.GetProperty("process_id").GetInt32(), listed.GetProperty("concurrency").GetInt32()));
            Assert.Equal(["default", "bulk"], listed.GetProperty("queues").EnumerateArray().Select(q => q.GetString()));
            Assert.Equal(7, listed.GetProperty("running_runs")[0].GetInt64());
        }
        finally
        {
            await buckets.Workers.DeleteAsync(id, cancellationToken: Ct);
        }
    }

    /// <summary>A cron run of <paramref name="task"/> in the given state, as the beat and a worker would leave it.</summary>
    private static async Task<long> AddRunAsync(TestDatabase db, string task, string state, string? outcome)
    {
        await using var context = db.Context();
        var taskId = await context.PeriodicTasks.Where(t => t.Name == task).Select(t => t.Id).SingleAsync(Ct);
        var count = await context.Runs.CountAsync(Ct);
        var run = new Run
        {
            TaskId = taskId,
            Cron = Instant.FromUtc(2026, 3, 1, 9, count),
            State = state,
            Outcome = outcome,
            Worker = "w1",
            DispatchedAt = Instant.FromUtc(2026, 3, 1, 9, count),
            StartedAt = Instant.FromUtc(2026, 3, 1, 9, count, 1),
            FinishedAt = outcome is null ? null : Instant.FromUtc(2026, 3, 1, 9, count, 5),
        };
        context.Runs.Add(run);
        await context.SaveChangesAsync(Ct);
        return run.Id;
    }
}
