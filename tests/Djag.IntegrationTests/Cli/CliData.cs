using Djag.IntegrationTests.Persistence;
using Djag.Persistence.Runs;
using Djag.Persistence.Schedules;
using Djag.Scheduling;
using Microsoft.EntityFrameworkCore;
using NodaTime;

namespace Djag.IntegrationTests.Cli;

/// <summary>Schedules and run history for the CLI tests, written through the write path and as run rows.</summary>
internal static class CliData
{
    public static readonly Instant Now = Instant.FromUtc(2026, 3, 1, 12, 0);

    /// <summary>extract -> transform -> load, audit alone, cleanup future-depends on itself; created at <see cref="Now"/>.</summary>
    public static Task ChainAsync(TestDatabase db) => db.ApplyAsync(new ScheduleChange
    {
        Tasks =
        [
            TestDatabase.Task("extract", "0 * * * *") with { Task = "djag.sleep", Kwargs = """{"seconds": 2}""" },
            TestDatabase.Task("transform", "0 * * * *"),
            TestDatabase.Task("load", "0 * * * *") with { MaxRunning = 1, MaxRetries = 2, RetryBackoff = 5, Description = "Loads it." },
            TestDatabase.Task("audit", "30 * * * *") with { Enabled = false },
            TestDatabase.Task("cleanup", "*/10 * * * *"),
        ],
        Dependencies =
        [
            new DependencyEdit("transform", "extract"),
            new DependencyEdit("load", "transform", Condition: DependencyCondition.Completion),
            new DependencyEdit("cleanup", "cleanup", FutureDepends: true),
        ],
    });

    /// <summary>A finished (or, with a null outcome, running) run of <paramref name="task"/>; returns its id.</summary>
    public static async Task<long> AddRunAsync(
        TestDatabase db, string task, Instant cron, string? outcome, string origin = RunOrigins.Cron, int attempt = 1, string worker = "w1")
    {
        await using var context = db.Context();
        var ct = TestContext.Current.CancellationToken;
        var taskId = await context.PeriodicTasks.Where(t => t.Name == task).Select(t => t.Id).SingleAsync(ct);
        var run = new Run
        {
            TaskId = taskId,
            Cron = cron,
            Attempt = attempt,
            Origin = origin,
            State = outcome is null ? RunStates.Running : RunStates.Finished,
            Outcome = outcome,
            Worker = worker,
            DispatchedAt = cron,
            StartedAt = cron + Duration.FromSeconds(1),
            FinishedAt = outcome is null ? null : cron + Duration.FromSeconds(3.5),
            Error = outcome == RunOutcomes.Failure ? "boom\nat line 2" : null,
        };
        context.Runs.Add(run);
        await context.SaveChangesAsync(ct);
        return run.Id;
    }

    public static async Task<List<Run>> RunsAsync(TestDatabase db)
    {
        await using var context = db.Context();
        return await context.Runs.AsNoTracking().OrderBy(r => r.Id).ToListAsync(TestContext.Current.CancellationToken);
    }

    public static async Task<PeriodicTask> TaskAsync(TestDatabase db, string name)
    {
        await using var context = db.Context();
        return await context.PeriodicTasks.AsNoTracking().Include(t => t.Crontab).SingleAsync(t => t.Name == name, TestContext.Current.CancellationToken);
    }
}
