using Djag.Persistence.Operations;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Djag.Api.Endpoints;

/// <summary>/dag: every task with its state and every edge, as JSON or Graphviz DOT.</summary>
internal static class DagEndpoints
{
    private const string DotMediaType = "text/vnd.graphviz";

    // One status answers two media types; the document states the JSON one and says so of DOT.
    public static void Map(RouteGroupBuilder api) =>
        api.MapGet("/dag", GetAsync).WithTags("Dag")
            .WithSummary("Every task and edge")
            .WithDescription($"format=json (default) answers a DagView; format=dot answers Graphviz DOT as {DotMediaType}.")
            .Refuses();

    private static async Task<Results<Ok<DagView>, ContentHttpResult>> GetAsync(IDjagOperations operations, string? format, CancellationToken cancellationToken)
    {
        if (format is not (null or "json" or "dot"))
        {
            throw OperationException.Invalid("format", $"'{format}' is not a DAG format: use json or dot");
        }

        var dag = await operations.GetDagAsync(cancellationToken);
        return format == "dot" ? TypedResults.Text(dag.ToDot(), DotMediaType, System.Text.Encoding.UTF8) : TypedResults.Ok(dag);
    }
}
