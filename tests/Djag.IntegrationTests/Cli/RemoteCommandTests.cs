using System.Globalization;
using Djag.Cli;
using Djag.IntegrationTests.Api;
using Djag.IntegrationTests.Infrastructure;
using Djag.IntegrationTests.Persistence;
using Djag.Persistence.Runs;
using NodaTime;

namespace Djag.IntegrationTests.Cli;

/// <summary>
/// The same commands with --db and with --server print the same, byte for byte, and write the same: against
/// <see cref="FakeApiServer"/> (the contract's routes over the same database, which also records the requests)
/// and against the real API host.
/// </summary>
public sealed class RemoteCommandTests(ServersFixture servers) : IDisposable
{
    private readonly DirectoryInfo _files = Directory.CreateTempSubdirectory("djag-remote-");

    public void Dispose() => _files.Delete(recursive: true);

    public static TheoryData<string[]> ReadCommands() => new(
        ["tasks", "list"],
        ["tasks", "list", "--format", "jsonl", "--search", "a", "--enabled", "true", "--running", "false", "--sort", "total_run_count", "--desc", "--limit", "3", "--offset", "1"],
        ["tasks", "list", "--sort", "colour"],
        ["tasks", "show", "load"],
        ["tasks", "show", "nope"],
        ["runs", "list"],
        ["runs", "list", "--format", "jsonl"],
        ["runs", "list", "--task", "extract", "--state", "finished", "--outcome", "success", "--origin", "cron", "--limit", "5"],
        ["runs", "list", "--state", "done"],
        ["runs", "show", "1"],
        ["runs", "show", "42"],
        ["why", "transform"],
        ["why", "audit"],
        ["why", "nope"],
        ["dag"],
        ["dag", "--format", "dot"],
        ["export"],
        ["export", "--format", "json"]);

    [Theory]
    [MemberData(nameof(ReadCommands))]
    public async Task A_read_prints_the_same_through_the_api(string[] args)
    {
        var db = await TestDatabase.CreateAsync(servers, "cli");
        await CliData.ChainAsync(db);
        Assert.Equal(1L, await CliData.AddRunAsync(db, "extract", Instant.FromUtc(2026, 3, 1, 11, 0), RunOutcomes.Success));
        await CliData.AddRunAsync(db, "transform", Instant.FromUtc(2026, 3, 1, 11, 0), RunOutcomes.Failure);
        db.Clock.Advance(TimeSpan.FromMinutes(65));

        var direct = await CliRunner.RunAsync(db, args);
        var remote = await CliRunner.RunRemoteAsync(db, args);

        Assert.Equal(direct, remote);
        Assert.NotEqual("", direct.Out + direct.Error);
    }

    [Theory]
    [MemberData(nameof(ReadCommands))]
    public async Task A_read_prints_the_same_through_the_real_api(string[] args)
    {
        await using var api = await ApiHost.StartAsync(servers);
        var db = api.Db;
        await CliData.ChainAsync(db);
        Assert.Equal(1L, await CliData.AddRunAsync(db, "extract", Instant.FromUtc(2026, 3, 1, 11, 0), RunOutcomes.Success));
        await CliData.AddRunAsync(db, "transform", Instant.FromUtc(2026, 3, 1, 11, 0), RunOutcomes.Failure);
        db.Clock.Advance(TimeSpan.FromMinutes(65));

        var direct = await CliRunner.RunAsync(db, args);
        var remote = await CliRunner.RunAsync(db.Clock, c => c with { HttpHandler = api.CreateHandler }, [.. args, "--server", "http://localhost/", "--token", api.AdminToken]);

        Assert.Equal(direct, remote);
        Assert.NotEqual("", direct.Out + direct.Error);
    }

    [Fact]
    public async Task Apply_through_the_api_prints_the_same_diff_and_refuses_the_same_change()
    {
        var direct = await TestDatabase.CreateAsync(servers, "cli");
        var remote = await TestDatabase.CreateAsync(servers, "cli");
        var v1 = Write("v1.yaml", "tasks:\n  - {name: a, task: etl.a, cron: \"0 * * * *\"}\n  - {name: b, task: etl.b, cron: \"0 * * * *\"}\ndependencies:\n  - {depender: a, dependee: b}\n");
        var cycle = Write("cycle.yaml", "tasks:\n  - {name: a, task: etl.a, cron: \"0 * * * *\"}\n  - {name: b, task: etl.b, cron: \"0 * * * *\"}\ndependencies:\n  - {depender: b, dependee: a}\n");
        var v2 = Write("v2.yaml", "tasks:\n  - {name: a, task: etl.a, cron: \"0 * * * *\", priority: 3}\n  - {name: c, task: etl.c, cron: \"0 * * * *\"}\n");

        var results = new List<CliRun>();
        foreach (var args in new[] { new[] { "apply", v1 }, ["apply", v1], ["apply", cycle], ["apply", v2, "--prune", "--dry-run"], ["apply", v2, "--prune"] })
        {
            var d = await CliRunner.RunAsync(direct, args);
            var r = await CliRunner.RunRemoteAsync(remote, args);
            Assert.Equal(d, r);
            results.Add(r);
        }

        Assert.Equal(["add", "no", "", "add", "add"], results.Select(r => r.Out.Split(' ')[0]));
        Assert.Equal(
            (ExitCodes.BadInput, "error: dependencies: the change would close the cycle a -> b -> a\nnothing was written\n"),
            (results[2].ExitCode, results[2].Error));
        Assert.Equal((await CliRunner.RunAsync(direct, "export")).Out, (await CliRunner.RunAsync(remote, "export")).Out);
        Assert.Equal(2L, await remote.CountAsync("periodic_tasks"));
    }

    [Fact]
    public async Task Operations_through_the_api_write_what_they_write_directly()
    {
        var db = await TestDatabase.CreateAsync(servers, "cli");
        await CliData.ChainAsync(db);
        var succeeded = await CliData.AddRunAsync(db, "extract", Instant.FromUtc(2026, 3, 1, 11, 0), RunOutcomes.Success);
        var failed = await CliData.AddRunAsync(db, "transform", Instant.FromUtc(2026, 3, 1, 11, 0), RunOutcomes.Failure);

        var runNow = await CliRunner.RunRemoteAsync(db, "run-now", "load");
        var pause = await CliRunner.RunRemoteAsync(db, "pause", "extract");
        var retry = await CliRunner.RunRemoteAsync(db, "retry", failed.ToString(CultureInfo.InvariantCulture));
        var refusedRetry = await CliRunner.RunRemoteAsync(db, "retry", succeeded.ToString(CultureInfo.InvariantCulture));
        var backfill = await CliRunner.RunRemoteAsync(db, "backfill", "load", "--from", "2026-03-01T10:00:00Z", "--to", "2026-03-01T11:00:00Z", "--no-wait");
        var unknown = await CliRunner.RunRemoteAsync(db, "resume", "nope");

        var runs = await CliData.RunsAsync(db);
        Assert.Equal($"queued run {runs[2].Id} of load (manual); the beat dispatches it within a second\n", runNow.Out);
        Assert.Equal("paused extract: state disabled, next fire -\n", pause.Out);
        Assert.False((await CliData.TaskAsync(db, "extract")).Enabled);
        Assert.Equal($"queued run {runs[3].Id}: attempt 2 of transform's event 2026-03-01 11:00:00 (retry of run {failed})\n", retry.Out);
        Assert.Equal((ExitCodes.Failed, $"error: run_id: run {succeeded} is finished with success; only a failed or lost run can be retried\n"), (refusedRetry.ExitCode, refusedRetry.Error));
        Assert.StartsWith("backfill of load: queued 2 run(s), 0 event(s) already ran, 0 event(s) left to the schedule\n", backfill.Out, StringComparison.Ordinal);
        Assert.Equal((ExitCodes.BadInput, "error: task: no task named 'nope'\n"), (unknown.ExitCode, unknown.Error));
        Assert.Equal(
            [RunOrigins.Cron, RunOrigins.Cron, RunOrigins.Manual, RunOrigins.Retry, RunOrigins.Backfill, RunOrigins.Backfill],
            runs.Select(r => r.Origin));
    }

    [Fact]
    public async Task The_backfill_wait_polls_through_the_api()
    {
        var db = await TestDatabase.CreateAsync(servers, "cli");
        await CliData.ChainAsync(db);

        var run = await CliRunner.RunAsync(
            db.Clock,
            c => c with
            {
                HttpHandler = () => new FakeApiServer(db),
                Delay = (_, _) => db.ExecuteAsync(
                    "UPDATE djag.runs SET state = 'skipped', not_before = NULL WHERE id = (SELECT min(id) FROM djag.runs WHERE state = 'scheduled')"),
            },
            "backfill", "load", "--from", "2026-03-01T10:00:00Z", "--to", "2026-03-01T11:00:00Z", "--server", FakeApiServer.Url, "--token", FakeApiServer.Token);

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.EndsWith("backfill: 2/2 runs done: 0 succeeded, 0 failed, 2 skipped\n", run.Error, StringComparison.Ordinal);
        Assert.EndsWith("backfill of load done: 2/2 runs done: 0 succeeded, 0 failed, 2 skipped\n", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_token_the_server_refuses_exits_1_naming_the_token()
    {
        var db = await TestDatabase.CreateAsync(servers, "cli");

        var run = await CliRunner.RunAsync(
            db.Clock, c => c with { HttpHandler = () => new FakeApiServer(db) }, "tasks", "list", "--server", FakeApiServer.Url, "--token", "djag_wrong");

        Assert.Equal((ExitCodes.Failed, "error: token: the server refused the token: missing or unknown token\n", ""), (run.ExitCode, run.Error, run.Out));
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(_files.FullName, name);
        File.WriteAllText(path, text);
        return path;
    }
}
