using Djag.IntegrationTests.Infrastructure;
using Djag.IntegrationTests.Persistence;
using Djag.Persistence.Operations;
using Djag.Persistence.Runs;
using Djag.Persistence.Schedules;
using Microsoft.EntityFrameworkCore;
using NodaTime;

namespace Djag.IntegrationTests.EndToEnd;

/// <summary>Run-now, backfill and retry through the real beat and a worker process (semantics.md section 5).</summary>
public sealed class ManualRunTests(ServersFixture servers)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Run_now_runs_once_and_leaves_the_cron_pointer_alone_and_a_failed_run_is_retried_on_request()
    {
        await using var system = await DjagSystem.StartAsync(servers, "runnow");
        system.StartWorker();
        await system.StartBeatAsync();
        var yearly = Instant.FromUtc(2026, 6, 1, 0, 0);
        await system.ApplyAsync(new ScheduleChange
        {
            Tasks =
            [
                TestDatabase.Task("report", "0 0 0 1 1 *") with { Task = "djag.echo", CronBase = yearly },
                TestDatabase.Task("flaky", "0 0 0 1 1 *") with { Task = "djag.shell", Kwargs = """{"program": "false"}""", CronBase = yearly },
            ],
        });

        var manual = await OperateAsync(system, o => o.RunNowAsync("report", Ct));
        Assert.Equal((RunStates.Scheduled, RunOrigins.Manual, 1), (manual.State, manual.Origin, manual.Attempt));
        await system.WaitForRunsAsync(r => r.Any(x => x.Task == "report" && x.Outcome == RunOutcomes.Success), TimeSpan.FromSeconds(20), "the manual run succeeded");

        await using (var context = system.Database.Context())
        {
            var report = await context.PeriodicTasks.AsNoTracking().SingleAsync(t => t.Name == "report", Ct);
            Assert.Equal((0, 1L), (report.State.Running, report.State.TotalRunCount));
            Assert.Null(report.State.LastCron);
            Assert.Null(report.State.CronPointer);
        }

        var failed = await OperateAsync(system, o => o.RunNowAsync("flaky", Ct));
        await system.WaitForRunsAsync(r => r.Any(x => x.Task == "flaky" && x.Outcome == RunOutcomes.Failure), TimeSpan.FromSeconds(20), "the flaky run failed");
        var retry = await OperateAsync(system, o => o.RetryAsync(failed.Id, Ct));
        Assert.Equal((2, RunOrigins.Retry, failed.Cron), (retry.Attempt, retry.Origin, retry.Cron));
        var runs = await system.WaitForRunsAsync(
            r => r.Count(x => x.Task == "flaky" && x.State == RunStates.Finished) == 2, TimeSpan.FromSeconds(20), "the retry finished");
        Assert.Equal([1, 2], runs.Where(x => x.Task == "flaky").Select(x => x.Attempt).Order());

        var again = await Assert.ThrowsAsync<OperationException>(() => OperateAsync(system, o => o.RetryAsync(failed.Id, Ct)));
        Assert.Equal(OperationErrorKind.Conflict, again.Kind);
        Assert.Contains("already retried", again.Message, StringComparison.Ordinal);
        var succeeded = await Assert.ThrowsAsync<OperationException>(() => OperateAsync(system, o => o.RetryAsync(manual.Id, Ct)));
        Assert.Contains("finished with success", succeeded.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Backfill_runs_each_past_event_once_within_max_running_and_not_again()
    {
        await using var system = await DjagSystem.StartAsync(servers, "backfill");
        system.StartWorker();
        system.StartWorker();
        await system.StartBeatAsync();

        // Yearly on 1 January, counting from June 2026: the events 2022..2026 predate the pointer, so only a
        // backfill runs them, one at a time (max_running 1) though two workers could take more.
        await system.ApplyAsync(new ScheduleChange
        {
            Tasks =
            [
                TestDatabase.Task("yearly", "0 0 0 1 1 *") with
                {
                    Task = "djag.sleep", Kwargs = """{"seconds": 0.3}""", MaxRunning = 1, CronBase = Instant.FromUtc(2026, 6, 1, 0, 0),
                },
            ],
        });

        var from = new DateTimeOffset(2022, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var to = new DateTimeOffset(2027, 6, 1, 0, 0, 0, TimeSpan.Zero);
        var queued = await OperateAsync(system, o => o.BackfillAsync("yearly", from, to, Ct));
        Assert.Equal((5, 0, 1), (queued.RunIds.Count, queued.AlreadyRan, queued.LeftToSchedule));

        var runs = await system.WaitForRunsAsync(r => r.Count(x => x.Outcome == RunOutcomes.Success) == 5, TimeSpan.FromSeconds(30), "the backfill finished");
        Assert.Equal(Enumerable.Range(2022, 5).Select(y => Instant.FromUtc(y, 1, 1, 0, 0)), runs.Select(r => r.Cron));
        var ordered = runs.OrderBy(r => r.StartedAt).ToList();
        for (var i = 1; i < ordered.Count; i++)
        {
            Assert.True(ordered[i].StartedAt >= ordered[i - 1].FinishedAt, $"runs {i - 1} and {i} overlapped although max_running is 1");
        }

        var second = await OperateAsync(system, o => o.BackfillAsync("yearly", from, to, Ct));
        Assert.Equal((0, 5), (second.RunIds.Count, second.AlreadyRan));

        var tooMany = await Assert.ThrowsAsync<OperationException>(() => OperateAsync(system, o => o.BackfillAsync("yearly", to, from, Ct)));
        Assert.Equal(("to", OperationErrorKind.Invalid), (tooMany.Field, tooMany.Kind));
    }

    private static async Task<T> OperateAsync<T>(DjagSystem system, Func<DatabaseOperations, Task<T>> operation)
    {
        await using var context = system.Database.Context();
        return await operation(new DatabaseOperations(context, TimeProvider.System));
    }
}
