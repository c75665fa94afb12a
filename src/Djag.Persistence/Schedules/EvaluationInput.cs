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
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(task);
        var edges = await db.TaskDependencies.AsNoTracking()
            .Where(d => d.DependerId == task.Id)
            .Select(d => new { Dependee = d.Dependee.Name, d.Dependee.Enabled, d.Dependee.State, d.FutureDepends, d.Condition, d.ChangeMark })
            .ToListAsync(cancellationToken);
        return new EvaluationInput(
            [.. edges.Select(e => new DependencyEdge(task.Name, e.Dependee, e.FutureDepends, e.Condition, e.ChangeMark))],
            edges.Where(e => e.Dependee != task.Name).ToDictionary(e => e.Dependee, e => new DependeeStatus(e.State.ToCore(), e.Enabled)));
    }
}
