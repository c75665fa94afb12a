using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Djag.Api.Endpoints;

/// <summary>/health: answers while the API is up, without a token (for load balancers and probes).</summary>
internal static class HealthEndpoints
{
    public static void Map(RouteGroupBuilder api) =>
        api.MapGet("/health", () => TypedResults.Ok(new HealthView("ok"))).WithTags("Health").WithSummary("Up; needs no token").AllowAnonymous();

    internal sealed record HealthView(string Status);
}
