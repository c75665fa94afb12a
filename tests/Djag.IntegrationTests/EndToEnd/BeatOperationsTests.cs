using Djag.Beat.Hosting;
using Djag.IntegrationTests.Infrastructure;
using Djag.IntegrationTests.Persistence;
using Djag.Persistence.Runs;
using Djag.Persistence.Schedules;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Npgsql;

namespace Djag.IntegrationTests.EndToEnd;

/// <summary>Starting, checking and restarting the beat, and schedule changes that move triggers.</summary>
public sealed class BeatOperationsTests(ServersFixture servers)
{
    [Fact]
    public async Task Health_reports_the_database_the_beats_and_nats_and_fails_when_nats_is_gone()
    {
        await using var system = await DjagSystem.StartAsync(servers, "health");
        system.StartWorker();
        await system.StartBeatAsync();
        await system.ApplyAsync(new ScheduleChange { Tasks = [TestDatabase.Task("tick", "* * * * * *") with { Task = "djag.echo" }] });
        await system.WaitForRunsAsync(r => r.Any(x => x.Outcome == RunOutcomes.Success), TimeSpan.FromSeconds(30), "a run finished");

        var (code, report) = await HealthAsync(system);
        Assert.Equal(0, code);
        Assert.Contains("database: ok", report, StringComparison.Ordinal);
        Assert.Contains("beats: ok, 1 checked in", report, StringComparison.Ordinal);
        Assert.Contains("1 workers heartbeating", report, StringComparison.Ordinal);

        await system.StopBeatAsync();
        await system.Nats.StopAsync();
        (code, report) = await HealthAsync(system);
        Assert.Equal(1, code);
        Assert.Contains("nats: FAILED", report, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_beat_refuses_to_start_when_nats_is_unreachable()
    {
        await using var system = await DjagSystem.StartAsync(servers, "nonats");
        using var beat = system.BuildBeat("--NatsUrl=nats://127.0.0.1:1");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => beat.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains("cannot reach NATS at nats://127.0.0.1:1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_report_written_while_the_beat_was_down_is_applied_when_it_comes_back()
    {
        await using var system = await DjagSystem.StartAsync(servers, "missed");
        system.StartWorker();
        await system.StartBeatAsync();
        await system.ApplyAsync(new ScheduleChange
        {
            Tasks =
            [
                TestDatabase.Task("slow", "0 0 0 1 1 *") with
                {
                    Task = "djag.sleep", Kwargs = """{"seconds": 3}""", CronBase = Instant.FromUtc(2025, 12, 31, 23, 0),
                },
            ],
        });
        await system.WaitForRunsAsync(r => r.Any(x => x.State == RunStates.Running), TimeSpan.FromSeconds(20), "the run started");

        await system.StopBeatAsync();
        await Task.Delay(TimeSpan.FromSeconds(4), TestContext.Current.CancellationToken); // the run finishes while no beat watches
        Assert.Equal(RunStates.Running, Assert.Single(await system.RunsAsync()).State);
        await system.StartBeatAsync();

        var run = Assert.Single(await system.WaitForRunsAsync(r => r.All(x => x.State == RunStates.Finished), TimeSpan.FromSeconds(20), "the missed report was applied"));
        Assert.Equal(RunOutcomes.Success, run.Outcome);
        await using var context = system.Database.Context();
        var task = await context.PeriodicTasks.AsNoTracking().SingleAsync(TestContext.Current.CancellationToken);
        Assert.Equal((0, 1L, Instant.FromUtc(2026, 1, 1, 0, 0)), (task.State.Running, task.State.TotalRunCount, task.State.LastCron!.Value));
    }

    [Fact]
    public async Task Disabling_a_task_removes_its_trigger_and_enabling_it_brings_it_back()
    {
        await using var system = await DjagSystem.StartAsync(servers, "disable");
        await system.StartBeatAsync();
        var task = TestDatabase.Task("toggled", "0 0 12 * * *") with { Task = "djag.echo" };
        await system.ApplyAsync(new ScheduleChange { Tasks = [task] });
        await WaitForTriggersAsync(system, 1);

        await system.ApplyAsync(new ScheduleChange { Tasks = [task with { Enabled = false }] });
        await WaitForTriggersAsync(system, 0);

        await system.ApplyAsync(new ScheduleChange { Tasks = [task] });
        await WaitForTriggersAsync(system, 1);

        await system.ApplyAsync(new ScheduleChange { DeletedTasks = ["toggled"] });
        await WaitForTriggersAsync(system, 0);
    }

    private static async Task<(int Code, string Report)> HealthAsync(DjagSystem system)
    {
        using var beat = system.BuildBeat();
        using var output = new StringWriter();
        var code = await HealthCommand.RunAsync(beat.Services, output, TestContext.Current.CancellationToken);
        return (code, output.ToString());
    }

    private static async Task WaitForTriggersAsync(DjagSystem system, long expected)
    {
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(5);
        long count;
        do
        {
            await using var connection = new NpgsqlConnection(system.Database.ConnectionString);
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            await using var command = new NpgsqlCommand("SELECT count(*) FROM qrtz_triggers WHERE trigger_group = 'djag'", connection);
            count = (long)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
            if (count == expected)
            {
                return;
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
        while (TimeProvider.System.GetUtcNow() < deadline);

        Assert.Equal(expected, count);
    }
}
