using Djag.Api.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Djag.Api.Endpoints;

internal static class EndpointConventions
{
    /// <summary>Writes and operations: admin tokens only.</summary>
    public static RouteHandlerBuilder Writes(this RouteHandlerBuilder endpoint) =>
        endpoint.RequireAuthorization(ApiPolicies.Write).ProducesProblem(StatusCodes.Status403Forbidden);

    /// <summary>Refusals the endpoint documents: 400 for bad input and each further status given.</summary>
    public static RouteHandlerBuilder Refuses(this RouteHandlerBuilder endpoint, params int[] statuses)
    {
        endpoint.ProducesProblem(StatusCodes.Status400BadRequest);
        foreach (var status in statuses)
        {
            endpoint.ProducesProblem(status);
        }

        return endpoint;
    }
}
