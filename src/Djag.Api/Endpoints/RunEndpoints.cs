using Djag.Persistence.Operations;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Djag.Api.Endpoints;

/// <summary>/runs: run history, newest first, and retrying a failed or lost run.</summary>
internal static class RunEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var runs = api.MapGroup("/runs").WithTags("Runs");
        runs.MapGet("", ListAsync).WithSummary("A page of runs, newest first, filtered").Refuses(StatusCodes.Status404NotFound);
        runs.MapGet("/{id:long}", GetAsync).WithSummary("One run").Refuses(StatusCodes.Status404NotFound);
        runs.MapPost("/{id:long}/retry", RetryAsync).WithSummary("Queue the next attempt of a failed or lost run").Writes().Refuses(StatusCodes.Status404NotFound, StatusCodes.Status409Conflict);
    }

    public static string Location(long id) => $"{DjagApi.RoutePrefix}/runs/{id}";

    private static async Task<Ok<Page<RunView>>> ListAsync(
        IDjagOperations operations, string? task, string? state, string? outcome, string? origin, int? offset, int? limit,
        CancellationToken cancellationToken)
    {
        var defaults = new RunQuery();
        var query = new RunQuery(task, state, outcome, origin, offset ?? defaults.Offset, limit ?? defaults.Limit);
        return TypedResults.Ok(await operations.ListRunsAsync(query, cancellationToken));
    }

    private static async Task<Ok<RunView>> GetAsync(IDjagOperations operations, long id, CancellationToken cancellationToken) =>
        TypedResults.Ok(await operations.GetRunAsync(id, cancellationToken));

    private static async Task<Created<RunView>> RetryAsync(IDjagOperations operations, long id, CancellationToken cancellationToken)
    {
        var run = await operations.RetryAsync(id, cancellationToken);
        return TypedResults.Created(Location(run.Id), run);
    }
}
