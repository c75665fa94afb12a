using System.Globalization;
using Djag.Cli;
using Djag.IntegrationTests.Infrastructure;
using Djag.IntegrationTests.Persistence;
using Djag.Persistence.Runs;
using NodaTime;

namespace Djag.IntegrationTests.Cli;

/// <summary><c>djag run-now</c>, <c>pause</c>, <c>resume</c> and <c>retry</c>: what they print and what they write.</summary>
public sealed class OperateCommandTests(ServersFixture servers)
{
    [Fact]
    public async Task Run_now_queues_a_manual_run_for_the_beat()
    {
        var db = await TestDatabase.CreateAsync(servers, "cli");
        await CliData.ChainAsync(db);

        var run = await CliRunner.RunAsync(db, "run-now", "extract");

        Assert.Equal((ExitCodes.Ok, ""), (run.ExitCode, run.Error));
        var queued = Assert.Single(await CliData.RunsAsync(db));
        Assert.Equal($"queued run {queued.Id} of extract (manual); the beat dispatches it within a second\n", run.Out);
        Assert.Equal((RunOrigins.Manual, RunStates.Scheduled, CliData.Now, (Instant?)CliData.Now), (queued.Origin, queued.State, queued.Cron, queued.NotBefore));
    }

    [Fact]
    public async Task Pause_and_resume_disable_and_enable_the_task()
    {
        var db = await TestDatabase.CreateAsync(servers, "cli");
        await CliData.ChainAsync(db);

        var paused = await CliRunner.RunAsync(db, "pause", "extract");
        var enabledAfterPause = (await CliData.TaskAsync(db, "extract")).Enabled;
        var resumed = await CliRunner.RunAsync(db, "resume", "extract");

        Assert.Equal((ExitCodes.Ok, "paused extract: state disabled, next fire -\n"), (paused.ExitCode, paused.Out));
        Assert.False(enabledAfterPause);
        Assert.Equal((ExitCodes.Ok, "resumed extract: state waiting, next fire 2026-03-01 13:00:00\n"), (resumed.ExitCode, resumed.Out));
        Assert.True((await CliData.TaskAsync(db, "extract")).Enabled);
    }

    [Theory]
    [InlineData("run-now")]
    [InlineData("pause")]
    [InlineData("resume")]
    public async Task An_unknown_task_exits_2_naming_task_and_writes_nothing(string verb)
    {
        var db = await TestDatabase.CreateAsync(servers, "cli");
        await CliData.ChainAsync(db);
        var actions = await db.CountAsync("user_actions");

        var run = await CliRunner.RunAsync(db, verb, "nope");

        Assert.Equal(ExitCodes.BadInput, run.ExitCode);
        Assert.Equal("error: task: no task named 'nope'\n", run.Error);
        Assert.Equal("", run.Out);
        Assert.Equal((0L, actions), (await db.CountAsync("runs"), await db.CountAsync("user_actions")));
    }

    [Fact]
    public async Task Retry_queues_the_next_attempt_of_a_failed_run()
    {
        var db = await TestDatabase.CreateAsync(servers, "cli");
        await CliData.ChainAsync(db);
        var failed = await CliData.AddRunAsync(db, "transform", Instant.FromUtc(2026, 3, 1, 11, 0), RunOutcomes.Failure);

        var run = await CliRunner.RunAsync(db, "retry", Id(failed));

        Assert.Equal((ExitCodes.Ok, ""), (run.ExitCode, run.Error));
        var retry = (await CliData.RunsAsync(db))[^1];
        Assert.Equal($"queued run {retry.Id}: attempt 2 of transform's event 2026-03-01 11:00:00 (retry of run {failed})\n", run.Out);
        Assert.Equal((2, RunOrigins.Retry, RunStates.Scheduled), (retry.Attempt, retry.Origin, retry.State));
    }

    [Fact]
    public async Task Retrying_a_run_that_succeeded_exits_1_and_queues_nothing()
    {
        var db = await TestDatabase.CreateAsync(servers, "cli");
        await CliData.ChainAsync(db);
        var succeeded = await CliData.AddRunAsync(db, "transform", Instant.FromUtc(2026, 3, 1, 11, 0), RunOutcomes.Success);

        var run = await CliRunner.RunAsync(db, "retry", Id(succeeded));

        Assert.Equal(ExitCodes.Failed, run.ExitCode);
        Assert.Equal($"error: run_id: run {succeeded} is finished with success; only a failed or lost run can be retried\n", run.Error);
        Assert.Single(await CliData.RunsAsync(db));
    }

    [Fact]
    public async Task Retrying_an_unknown_run_exits_2()
    {
        var db = await TestDatabase.CreateAsync(servers, "cli");

        var run = await CliRunner.RunAsync(db, "retry", "42");

        Assert.Equal((ExitCodes.BadInput, "error: run_id: no run with id 42\n"), (run.ExitCode, run.Error));
    }

    private static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);
}
