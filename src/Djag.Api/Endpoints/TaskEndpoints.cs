using Djag.Persistence;
using Djag.Persistence.Operations;
using Djag.Persistence.Schedules;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace Djag.Api.Endpoints;

/// <summary>/tasks: the task list and CRUD (through <see cref="ScheduleService"/>), why, and the operations on one task.</summary>
internal static class TaskEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var tasks = api.MapGroup("/tasks").WithTags("Tasks");
        tasks.MapGet("", ListAsync).WithSummary("A page of tasks, filtered and sorted").Refuses();
        tasks.MapGet("/{name}", GetAsync).WithSummary("A task with its settings and edges").Refuses(StatusCodes.Status404NotFound);
        tasks.MapPost("", CreateAsync).WithSummary("Create a task (a schedule-file entry)").Writes().Refuses(StatusCodes.Status409Conflict);
        tasks.MapPut("/{name}", UpdateAsync).WithSummary("Replace a task's settings; a new name renames it").Writes().Refuses(StatusCodes.Status404NotFound);
        tasks.MapDelete("/{name}", DeleteAsync).WithSummary("Delete a task no other task depends on").Writes().Refuses(StatusCodes.Status404NotFound);
        tasks.MapGet("/{name}/why", WhyAsync).WithSummary("What holds the task now, as the scheduling core sees it").Refuses(StatusCodes.Status404NotFound);
        tasks.MapPost("/{name}/run-now", RunNowAsync).WithSummary("Queue a manual run now").Writes().Refuses(StatusCodes.Status404NotFound);
        tasks.MapPost("/{name}/pause", PauseAsync).WithSummary("Disable the task").Writes().Refuses(StatusCodes.Status404NotFound);
        tasks.MapPost("/{name}/resume", ResumeAsync).WithSummary("Enable the task; missed events follow its misfire policy").Writes().Refuses(StatusCodes.Status404NotFound);
        tasks.MapPost("/{name}/backfill", BackfillAsync).WithSummary("Queue a run for each past event in [from, to] that has none").Writes().Refuses(StatusCodes.Status404NotFound);
    }

    /// <summary>A page of tasks; sort is one of <see cref="TaskQuery.SortKeys"/>, limit at most <see cref="DatabaseOperations.MaxLimit"/>.</summary>
    private static async Task<Ok<Page<TaskSummary>>> ListAsync(
        IDjagOperations operations, string? search, bool? enabled, bool? running, string? sort, bool? desc, int? offset, int? limit,
        CancellationToken cancellationToken)
    {
        var defaults = new TaskQuery();
        var query = new TaskQuery(
            search, enabled, running, string.IsNullOrEmpty(sort) ? defaults.Sort : sort, desc ?? false, offset ?? defaults.Offset, limit ?? defaults.Limit);
        return TypedResults.Ok(await operations.ListTasksAsync(query, cancellationToken));
    }

    private static async Task<Ok<TaskDetail>> GetAsync(IDjagOperations operations, string name, CancellationToken cancellationToken) =>
        TypedResults.Ok(await operations.GetTaskAsync(name, cancellationToken));

    private static async Task<Created<TaskDetail>> CreateAsync(
        TaskBody body, DjagDbContext db, ScheduleService schedule, IDjagOperations operations, CancellationToken cancellationToken)
    {
        var edit = TaskBodies.ToEdit(body);

        // The write path updates a task of the same name; a create must not.
        if (await db.PeriodicTasks.AnyAsync(t => t.Name == edit.Name, cancellationToken))
        {
            throw OperationException.Conflict("name", $"a task named '{edit.Name}' exists already; PUT {Location(edit.Name)} changes it");
        }

        await schedule.ApplyAsync(new ScheduleChange { Tasks = [edit] }, cancellationToken);
        return TypedResults.Created(Location(edit.Name), await operations.GetTaskAsync(edit.Name, cancellationToken));
    }

    /// <summary>Replaces the task's settings with the body's (omitted fields take their defaults, cron_base is kept); a new name renames it.</summary>
    private static async Task<Ok<TaskDetail>> UpdateAsync(
        string name, TaskBody body, DjagDbContext db, ScheduleService schedule, IDjagOperations operations, CancellationToken cancellationToken)
    {
        var id = await IdOfAsync(db, name, cancellationToken);
        var edit = TaskBodies.ToEdit(body with { Name = body.Name ?? name }) with { Id = id };
        await schedule.ApplyAsync(new ScheduleChange { Tasks = [edit] }, cancellationToken);
        return TypedResults.Ok(await operations.GetTaskAsync(edit.Name, cancellationToken));
    }

    /// <summary>Deletes the task and the edges it depends on; refused while other tasks depend on it.</summary>
    private static async Task<NoContent> DeleteAsync(string name, DjagDbContext db, ScheduleService schedule, CancellationToken cancellationToken)
    {
        await IdOfAsync(db, name, cancellationToken);
        await schedule.ApplyAsync(new ScheduleChange { DeletedTasks = [name] }, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<WhyView>> WhyAsync(IDjagOperations operations, string name, CancellationToken cancellationToken) =>
        TypedResults.Ok(await operations.WhyAsync(name, cancellationToken));

    private static async Task<Created<RunView>> RunNowAsync(IDjagOperations operations, string name, CancellationToken cancellationToken)
    {
        var run = await operations.RunNowAsync(name, cancellationToken);
        return TypedResults.Created(RunEndpoints.Location(run.Id), run);
    }

    private static async Task<Ok<TaskSummary>> PauseAsync(IDjagOperations operations, string name, CancellationToken cancellationToken) =>
        TypedResults.Ok(await operations.PauseAsync(name, cancellationToken));

    private static async Task<Ok<TaskSummary>> ResumeAsync(IDjagOperations operations, string name, CancellationToken cancellationToken) =>
        TypedResults.Ok(await operations.ResumeAsync(name, cancellationToken));

    /// <summary>Queues a run for each event in [from, to] that has none; at most <see cref="DatabaseOperations.MaxBackfillEvents"/>.</summary>
    private static async Task<Created<BackfillResult>> BackfillAsync(
        IDjagOperations operations, string name, BackfillBody body, CancellationToken cancellationToken)
    {
        var from = body.From ?? throw OperationException.Invalid("from", "required: the first instant of the range (ISO 8601)");
        var to = body.To ?? throw OperationException.Invalid("to", "required: the last instant of the range (ISO 8601)");
        var result = await operations.BackfillAsync(name, from, to, cancellationToken);
        return TypedResults.Created($"{DjagApi.RoutePrefix}/runs?task={Uri.EscapeDataString(result.Task)}&origin=backfill", result);
    }

    private static async Task<long> IdOfAsync(DjagDbContext db, string name, CancellationToken cancellationToken) =>
        await db.PeriodicTasks.Where(t => t.Name == name).Select(t => (long?)t.Id).SingleOrDefaultAsync(cancellationToken)
        ?? throw OperationException.NotFound("task", $"no task named '{name}'");

    private static string Location(string name) => $"{DjagApi.RoutePrefix}/tasks/{Uri.EscapeDataString(name)}";
}
