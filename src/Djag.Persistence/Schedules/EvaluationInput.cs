using Djag.Persistence.Operations;
using Djag.Scheduling;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Npgsql;

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

/// <summary>The named tasks, locked, with their crontabs and evaluation inputs, and event marks for their dispatches.</summary>
/// <param name="Tasks">The tasks that exist, in id order, not tracked by the context.</param>
/// <param name="Inputs">Each task's evaluation input, by task id.</param>
/// <param name="Marks">One mark per name asked for, in ascending order, for the dispatches among the tasks.</param>
public sealed record EvaluationBatch(IReadOnlyList<PeriodicTask> Tasks, IReadOnlyDictionary<long, EvaluationInput> Inputs, IReadOnlyList<long> Marks);

public static class EvaluationInputLoading
{
    /// <summary>Each edge of the dependers named in <c>$1</c>, with its dependee's name, enabled flag and scheduler state.</summary>
    private const string EdgesSql = """
        SELECT d.depender_id, e.name, d.future_depends, d.condition, d.change_mark, e.enabled,
               e.cron_pointer, e.last_cron, e.running, e.last_start_mark, e.last_success_mark, e.last_completion_mark,
               e.last_cron_start, e.last_cron_end, e.total_run_count
        FROM djag.task_dependencies d
        JOIN djag.periodic_tasks r ON r.id = d.depender_id
        JOIN djag.periodic_tasks e ON e.id = d.dependee_id
        WHERE r.name = ANY($1)
        """;

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
        await using var batch = await db.CreateBatchAsync(cancellationToken);
        batch.BatchCommands.Add(EdgesCommand([.. tasks.Select(t => t.Name)]));
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        return Inputs(tasks, await ReadEdgesAsync(reader, cancellationToken));
    }

    /// <summary>
    /// Locks the rows of the named tasks that exist until the caller's transaction ends, in id order, and loads what
    /// evaluating them needs, in two round trips: the lock, the tasks' edges and event marks, then the tasks with their
    /// crontabs (see <see cref="DjagDbContext.LockTasksCommand(string[])"/> on why they are loaded after the lock).
    /// </summary>
    public static async Task<EvaluationBatch> LockForEvaluationAsync(
        this DjagDbContext db, IReadOnlyCollection<string> names, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(names);
        var list = names as string[] ?? [.. names];
        List<Edge> edges;
        List<long> marks;
        await using (var batch = await db.CreateBatchAsync(cancellationToken))
        {
            batch.BatchCommands.Add(DjagDbContext.LockTasksCommand(list));
            batch.BatchCommands.Add(EdgesCommand(list));
            batch.BatchCommands.Add(DjagDbContext.NextMarksCommand(list.Length));
            await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
            await reader.NextResultAsync(cancellationToken);
            edges = await ReadEdgesAsync(reader, cancellationToken);
            await reader.NextResultAsync(cancellationToken);
            marks = await DjagDbContext.ReadMarksAsync(reader, list.Length, cancellationToken);
        }

        var tasks = await db.PeriodicTasks.AsNoTracking().Include(t => t.Crontab)
            .Where(t => list.Contains(t.Name)).OrderBy(t => t.Id).ToListAsync(cancellationToken);
        return new(tasks, Inputs(tasks, edges), marks);
    }

    private sealed record Edge(long DependerId, string Dependee, bool FutureDepends, DependencyCondition Condition, long ChangeMark, DependeeStatus Status);

    private static NpgsqlBatchCommand EdgesCommand(string[] dependers) => new(EdgesSql) { Parameters = { new() { Value = dependers } } };

    private static async Task<List<Edge>> ReadEdgesAsync(NpgsqlDataReader reader, CancellationToken cancellationToken)
    {
        var edges = new List<Edge>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var state = new TaskState(
                OrNull<Instant>(reader, 6), OrNull<Instant>(reader, 7), reader.GetInt32(8), OrNull<long>(reader, 9), OrNull<long>(reader, 10),
                OrNull<long>(reader, 11), OrNull<Instant>(reader, 12), OrNull<Instant>(reader, 13), reader.GetInt64(14));
            edges.Add(new(reader.GetInt64(0), reader.GetString(1), reader.GetBoolean(2), DependencyConditions.Parse(reader.GetString(3)), reader.GetInt64(4),
                new DependeeStatus(state, reader.GetBoolean(5))));
        }

        return edges;
    }

    private static Dictionary<long, EvaluationInput> Inputs(IEnumerable<PeriodicTask> tasks, List<Edge> edges)
    {
        var byDepender = edges.ToLookup(e => e.DependerId);
        return tasks.ToDictionary(t => t.Id, t => new EvaluationInput(
            [.. byDepender[t.Id].Select(e => new DependencyEdge(t.Name, e.Dependee, e.FutureDepends, e.Condition, e.ChangeMark))],
            byDepender[t.Id].Where(e => e.Dependee != t.Name).ToDictionary(e => e.Dependee, e => e.Status)));
    }

    private static T? OrNull<T>(NpgsqlDataReader reader, int ordinal)
        where T : struct =>
        reader.IsDBNull(ordinal) ? null : reader.GetFieldValue<T>(ordinal);
}
