using Djag.Scheduling;
using Microsoft.EntityFrameworkCore;
using NodaTime;

namespace Djag.Persistence.Schedules;

/// <summary>
/// A task's dependency edges and what the core needs of each dependee, as stored: the beat decides on it
/// and the admin, the API and the CLI explain with it, so "why is it waiting" is the beat's own answer.
/// </summary>
public sealed record EvaluationInput(IReadOnlyList<DependencyEdge> Edges, IReadOnlyDictionary<string, DependeeStatus> Dependees)
{
    public TaskDecision Evaluate(PeriodicTask task, Instant now)
    {
        ArgumentNullException.ThrowIfNull(task);
        return TaskEvaluator.Evaluate(task.ToDefinition(), task.State.ToCore(), Edges, Dependees, now);
    }

    public IReadOnlyList<EdgeResolution> ResolveEdges(PeriodicTask task)
    {
        ArgumentNullException.ThrowIfNull(task);
        return TaskEvaluator.ResolveEdges(task.Name, task.State.ToCore(), Edges, Dependees);
    }
}

public static class EvaluationInputLoading
{
    public static async Task<EvaluationInput> LoadEvaluationInputAsync(this DjagDbContext db, PeriodicTask task, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(task);
        return (await db.LoadEvaluationInputsAsync([task], cancellationToken))[task.Id];
    }

    /// <summary>The evaluation input of each task, by task id, in one query.</summary>
    public static async Task<IReadOnlyDictionary<long, EvaluationInput>> LoadEvaluationInputsAsync(
        this DjagDbContext db, IReadOnlyCollection<PeriodicTask> tasks, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(tasks);
        var ids = tasks.Select(t => t.Id).ToArray();
        var edges = (await db.TaskDependencies.AsNoTracking()
            .Where(d => ids.Contains(d.DependerId))
            .Select(d => new { d.DependerId, Dependee = d.Dependee.Name, d.Dependee.Enabled, d.Dependee.State, d.FutureDepends, d.Condition, d.ChangeMark })
            .ToListAsync(cancellationToken))
            .ToLookup(e => e.DependerId);
        return tasks.ToDictionary(t => t.Id, t => new EvaluationInput(
            [.. edges[t.Id].Select(e => new DependencyEdge(t.Name, e.Dependee, e.FutureDepends, e.Condition, e.ChangeMark))],
            edges[t.Id].Where(e => e.Dependee != t.Name).ToDictionary(e => e.Dependee, e => new DependeeStatus(e.State.ToCore(), e.Enabled))));
    }
}
