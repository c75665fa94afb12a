using Djag.Contracts;
using Djag.Hosting.Nats;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using NATS.Client.KeyValueStore;

namespace Djag.Api.Endpoints;

/// <summary>/workers: the live worker fleet, from the heartbeat bucket in NATS (the host registers INatsKVContext).</summary>
internal static class WorkerEndpoints
{
    public static void Map(RouteGroupBuilder api) => api.MapGet("/workers", ListAsync).WithTags("Workers").WithSummary("The live workers, from their heartbeats");

    private static async Task<Ok<IReadOnlyList<WorkerHeartbeat>>> ListAsync([FromServices] INatsKVContext kv, CancellationToken cancellationToken) =>
        TypedResults.Ok(await WorkerDirectory.ListAsync(kv, cancellationToken));
}
