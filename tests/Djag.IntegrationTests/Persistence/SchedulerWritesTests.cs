using Djag.IntegrationTests.Infrastructure;
using Djag.Persistence.Runs;
using Djag.Persistence.Schedules;
using Microsoft.EntityFrameworkCore;
using NodaTime;

namespace Djag.IntegrationTests.Persistence;

public sealed class SchedulerWritesTests(ServersFixture servers)
{
    private static readonly Instant Cron = Instant.FromUtc(2026, 3, 1, 12, 0);

    private static readonly TaskSchedulerState StateA = new()
    {
        Running = 0, LastCron = Cron, LastCronStart = Cron, LastCronEnd = Cron + Duration.FromSeconds(3), TotalRunCount = 7,
        CronPointer = Cron, LastStartMark = 11, LastSuccessMark = 12, LastCompletionMark = 13,
    };

    private static readonly TaskSchedulerState StateB = new() { Running = 1, CronPointer = Cron, LastStartMark = 14 };

    [Fact]
    public async Task States_finished_runs_and_new_runs_are_written_as_given_and_the_new_runs_get_their_ids()
    {
        var ct = TestContext.Current.CancellationToken;
        var db = await TestDatabase.CreateAsync(servers, "writes");
        await db.ApplyAsync(new ScheduleChange { Tasks = [TestDatabase.Task("a"), TestDatabase.Task("b"), TestDatabase.Task("untouched")] });
        long open;
        await using (var context = db.Context())
        {
            var a = await context.PeriodicTasks.SingleAsync(t => t.Name == "a", ct);
            var run = new Run { TaskId = a.Id, Cron = Cron, DispatchedAt = Cron };
            context.Runs.Add(run);
            await context.SaveChangesAsync(ct);
            open = run.Id;
        }

        var inserted = new List<Run>();
        await using (var context = db.Context())
        {
            await using var transaction = await context.Database.BeginTransactionAsync(ct);
            var tasks = (await context.LockForEvaluationAsync(["a", "b"], ct)).Tasks;
            var (a, b) = (tasks.Single(t => t.Name == "a"), tasks.Single(t => t.Name == "b"));
            a.State = StateA;
            b.State = StateB;
            var finished = await context.Runs.SingleAsync(r => r.Id == open, ct);
            finished.State = RunStates.Finished;
            finished.Outcome = RunOutcomes.Failure;
            finished.Error = "boom";
            finished.OutputTail = "last line";
            finished.Worker = "w1";
            finished.StartedAt = Cron + Duration.FromSeconds(1);
            finished.FinishedAt = Cron + Duration.FromSeconds(3);
            inserted.Add(new Run { TaskId = a.Id, Cron = Cron, Attempt = 2, Origin = RunOrigins.Retry, State = RunStates.Scheduled, NotBefore = Cron + Duration.FromMinutes(1) });
            inserted.Add(new Run { TaskId = b.Id, Cron = Cron - Duration.FromMinutes(5), State = RunStates.Skipped, Reason = "late" });
            inserted.Add(new Run { TaskId = b.Id, Cron = Cron, DispatchedAt = Cron });

            await context.WriteSchedulerStateAsync(tasks, [finished], inserted, ct);
            await transaction.CommitAsync(ct);
        }

        await using (var context = db.Context())
        {
            var tasks = await context.PeriodicTasks.AsNoTracking().ToDictionaryAsync(t => t.Name, ct);
            Assert.Equivalent(StateA, tasks["a"].State);
            Assert.Equivalent(StateB, tasks["b"].State);
            Assert.Equivalent(new TaskSchedulerState(), tasks["untouched"].State);

            var runs = await context.Runs.AsNoTracking().ToDictionaryAsync(r => r.Id, ct);
            Assert.Equal(4, runs.Count);
            Assert.Equivalent(
                new Run
                {
                    Id = open, TaskId = tasks["a"].Id, Cron = Cron, State = RunStates.Finished, Outcome = RunOutcomes.Failure, Error = "boom",
                    OutputTail = "last line", Worker = "w1", DispatchedAt = Cron, StartedAt = Cron + Duration.FromSeconds(1), FinishedAt = Cron + Duration.FromSeconds(3),
                },
                runs[open]);
            Assert.All(inserted, run => Assert.Equivalent(run, runs[run.Id]));
            Assert.Equal(3, inserted.Select(r => r.Id).Where(id => id != open).Distinct().Count());
        }
    }
}
