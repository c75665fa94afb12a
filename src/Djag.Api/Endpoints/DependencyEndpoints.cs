using Djag.Persistence;
using Djag.Persistence.Operations;
using Djag.Persistence.Schedules;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace Djag.Api.Endpoints;

/// <summary>/dependencies: the edges, keyed by (depender, dependee); the depender waits on the dependee.</summary>
internal static class DependencyEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var dependencies = api.MapGroup("/dependencies").WithTags("Dependencies");
        dependencies.MapGet("", ListAsync).WithSummary("Every edge");
        dependencies.MapPut("/{depender}/{dependee}", PutAsync).WithSummary("Create or change the edge: depender waits on dependee").Writes().Refuses(StatusCodes.Status404NotFound);
        dependencies.MapDelete("/{depender}/{dependee}", DeleteAsync).WithSummary("Delete the edge").Writes().Refuses(StatusCodes.Status404NotFound);
    }

    private static async Task<Ok<List<DependencyView>>> ListAsync(DjagDbContext db, CancellationToken cancellationToken) =>
        TypedResults.Ok(await ViewsAsync(db, null, cancellationToken));

    /// <summary>Creates (201) or updates (200) the edge; refused when it would close a cycle.</summary>
    private static async Task<Results<Created<DependencyView>, Ok<DependencyView>>> PutAsync(
        string depender, string dependee, DependencyBody? body, DjagDbContext db, ScheduleService schedule, CancellationToken cancellationToken)
    {
        body ??= new DependencyBody();
        await RequireTaskAsync(db, "depender", depender, cancellationToken);
        await RequireTaskAsync(db, "dependee", dependee, cancellationToken);
        var key = new DependencyKey(depender, dependee);
        var existed = (await ViewsAsync(db, key, cancellationToken)).Count > 0;
        await schedule.ApplyAsync(
            new ScheduleChange { Dependencies = [new DependencyEdit(depender, dependee, body.FutureDepends, body.Condition)] }, cancellationToken);
        var view = (await ViewsAsync(db, key, cancellationToken)).Single();
        return existed
            ? TypedResults.Ok(view)
            : TypedResults.Created($"{DjagApi.RoutePrefix}/dependencies/{Uri.EscapeDataString(depender)}/{Uri.EscapeDataString(dependee)}", view);
    }

    private static async Task<NoContent> DeleteAsync(
        string depender, string dependee, DjagDbContext db, ScheduleService schedule, CancellationToken cancellationToken)
    {
        var key = new DependencyKey(depender, dependee);
        if ((await ViewsAsync(db, key, cancellationToken)).Count == 0)
        {
            throw OperationException.NotFound("dependency", $"no dependency {depender} -> {dependee}");
        }

        await schedule.ApplyAsync(new ScheduleChange { DeletedDependencies = [key] }, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task RequireTaskAsync(DjagDbContext db, string field, string name, CancellationToken cancellationToken)
    {
        if (!await db.PeriodicTasks.AnyAsync(t => t.Name == name, cancellationToken))
        {
            throw OperationException.NotFound(field, $"no task named '{name}'");
        }
    }

    private static async Task<List<DependencyView>> ViewsAsync(DjagDbContext db, DependencyKey? key, CancellationToken cancellationToken)
    {
        var edges = db.TaskDependencies.AsNoTracking();
        if (key is not null)
        {
            edges = edges.Where(d => d.Depender.Name == key.Depender && d.Dependee.Name == key.Dependee);
        }

        var rows = await edges.OrderBy(d => d.Depender.Name).ThenBy(d => d.Dependee.Name)
            .Select(d => new { Depender = d.Depender.Name, Dependee = d.Dependee.Name, d.FutureDepends, d.Condition, d.ChangeDt })
            .ToListAsync(cancellationToken);
        return [.. rows.Select(d => new DependencyView(d.Depender, d.Dependee, d.FutureDepends, DependencyConditions.Name(d.Condition), d.ChangeDt.ToDateTimeOffset()))];
    }
}
