using Djag.IntegrationTests.EndToEnd;
using Djag.Persistence.Runs;
using Djag.Persistence.Schedules;
using Djag.Scheduling;
using Microsoft.EntityFrameworkCore;

namespace Djag.IntegrationTests.Reliability;

/// <summary>
/// Checks Djag's promise on a system's runs table after a fault: every cron event the beat consumed was
/// dispatched once per attempt or recorded as skipped / coalesced with a reason, every run ended, the
/// counters equal what the runs say, and no depender ran without a fresh completion of its dependee.
/// </summary>
internal static class Ledger
{
    /// <summary>Pauses every task, waits until no run is open, then checks.</summary>
    public static async Task QuiesceAndCheckAsync(DjagSystem system, TimeSpan timeout)
    {
        await PauseAllAsync(system);
        await system.WaitForRunsAsync(r => r.All(DjagSystem.IsFinal), timeout, "every run is final");
        Assert.Empty(await ProblemsAsync(system));
    }

    /// <summary>Disables every task through the write path: the beat consumes no further cron events; open runs go on.</summary>
    public static async Task PauseAllAsync(DjagSystem system)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var context = system.Database.Context();
        var tasks = await context.PeriodicTasks.Include(t => t.Crontab).ToListAsync(ct);
        await new ScheduleService(context, TimeProvider.System)
            .ApplyAsync(new ScheduleChange { Tasks = [.. tasks.Select(t => TaskEdit.From(t) with { Enabled = false })] }, ct);
    }

    public static async Task<List<string>> ProblemsAsync(DjagSystem system)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var context = system.Database.Context();
        var tasks = await context.PeriodicTasks.AsNoTracking().Include(t => t.Crontab).ToListAsync(ct);
        var runs = await context.Runs.AsNoTracking().ToListAsync(ct);
        var edges = await context.TaskDependencies.AsNoTracking().Where(d => !d.FutureDepends && d.DependerId != d.DependeeId).ToListAsync(ct);
        var problems = new List<string>();
        foreach (var task in tasks)
        {
            var own = runs.Where(r => r.TaskId == task.Id).ToList();
            CheckEvents(task, own, problems);
            CheckRuns(task, own, problems);
        }

        foreach (var edge in edges)
        {
            CheckDependency(tasks.Single(t => t.Id == edge.DependerId).Name, tasks.Single(t => t.Id == edge.DependeeId).Name,
                runs.Where(r => r.TaskId == edge.DependerId).ToList(), runs.Where(r => r.TaskId == edge.DependeeId).ToList(), edge.Condition, problems);
        }

        return problems;
    }

    /// <summary>Each event up to the pointer has exactly its first attempt as a cron run, and attempts count 1, 2, … without gaps.</summary>
    private static void CheckEvents(PeriodicTask task, List<Run> runs, List<string> problems)
    {
        var scheduled = runs.Where(r => r.Origin is RunOrigins.Cron or RunOrigins.Retry).GroupBy(r => r.Cron).ToDictionary(g => g.Key, g => g.ToList());
        if (task.State.CronPointer is { } pointer)
        {
            foreach (var cron in task.Crontab.ToSchedule().Between(task.CronBase, pointer))
            {
                if (!scheduled.ContainsKey(cron))
                {
                    problems.Add($"{task.Name}: event {cron} was consumed but neither dispatched nor recorded");
                }
            }
        }

        foreach (var (cron, attempts) in scheduled)
        {
            var numbers = attempts.Select(a => a.Attempt).Order().ToList();
            if (!numbers.SequenceEqual(Enumerable.Range(1, numbers.Count)))
            {
                problems.Add($"{task.Name}: event {cron} has attempts {string.Join(",", numbers)}");
            }
        }
    }

    private static void CheckRuns(PeriodicTask task, List<Run> runs, List<string> problems)
    {
        foreach (var run in runs)
        {
            if (run.State is not (RunStates.Finished or RunStates.Skipped or RunStates.Coalesced))
            {
                problems.Add($"{task.Name}: run {run.Id} is still {run.State}");
            }

            if (run.State is RunStates.Skipped or RunStates.Coalesced && string.IsNullOrEmpty(run.Reason))
            {
                problems.Add($"{task.Name}: run {run.Id} is {run.State} without a reason");
            }
        }

        var completed = runs.Count(r => r.Outcome is RunOutcomes.Success or RunOutcomes.Failure);
        if (task.State.TotalRunCount != completed || task.State.Running != 0)
        {
            problems.Add($"{task.Name}: counters say {task.State.TotalRunCount} completed and {task.State.Running} running; the runs say {completed} and 0");
        }
    }

    /// <summary>
    /// The i-th cron dispatch of the depender needs i distinct qualifying completions of the dependee before it:
    /// each dispatch consumes one that came after the depender's previous start (semantics.md section 4).
    /// Worker finish times are compared with beat dispatch times, which is sound here (one machine, one clock).
    /// </summary>
    private static void CheckDependency(string depender, string dependee, List<Run> dependerRuns, List<Run> dependeeRuns,
        DependencyCondition condition, List<string> problems)
    {
        var completions = dependeeRuns
            .Where(r => condition == DependencyCondition.Success ? r.Outcome == RunOutcomes.Success : r.Outcome is RunOutcomes.Success or RunOutcomes.Failure)
            .Select(r => r.FinishedAt!.Value).Order().ToList();
        var dispatches = dependerRuns.Where(r => r is { Origin: RunOrigins.Cron, DispatchedAt: not null })
            .Select(r => r.DispatchedAt!.Value).Order().ToList();
        for (var i = 0; i < dispatches.Count; i++)
        {
            var before = completions.Count(c => c < dispatches[i]);
            if (before < i + 1)
            {
                problems.Add($"{depender} -> {dependee}: dispatch #{i + 1} at {dispatches[i]} had only {before} completions of {dependee} before it");
            }
        }
    }
}
