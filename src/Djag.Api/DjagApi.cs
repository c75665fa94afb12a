using Djag.Api.Endpoints;
using Djag.Api.Problems;
using Djag.Api.Security;
using Djag.Persistence.Accounts;
using Djag.Persistence.Operations;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Djag.Api;

/// <summary>
/// The HTTP API under <c>/api/v1</c>: the admin host (or a host of its own) calls <see cref="AddDjagApi"/>
/// after <c>AddDjagPersistence</c> and registers NATS' <c>INatsKVContext</c> (for /workers), then
/// <see cref="MapDjagApi"/>.
/// </summary>
public static class DjagApi
{
    /// <summary>The token authentication scheme: <c>Authorization: Bearer djag_...</c>.</summary>
    public const string AuthenticationScheme = "DjagToken";

    public const string RoutePrefix = "/api/v1";

    /// <summary>The OpenAPI document's name; <c>MapOpenApi</c> serves the one named so at a route without a name in it.</summary>
    internal const string DocumentName = "v1";

    /// <summary>
    /// Token authentication and its policies, problem details, the operations' JSON shape
    /// (<see cref="OperationsJson.Options"/>) as the host's HTTP JSON options, the OpenAPI document and
    /// <see cref="DjagApiOptions"/>. Binding failures of minimal-API parameters throw (RouteHandlerOptions.ThrowOnBadRequest)
    /// so the API can name the field; on the host's other endpoints that only changes what is logged.
    /// </summary>
    public static IServiceCollection AddDjagApi(this IServiceCollection services, Action<DjagApiOptions>? configure = null)
    {
        var options = services.AddOptions<DjagApiOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddScoped<IDjagOperations, DatabaseOperations>();
        services.TryAddScoped<AccountService>();
        services.AddProblemDetails();
        services.ConfigureHttpJsonOptions(json =>
        {
            var shape = OperationsJson.Options;
            json.SerializerOptions.PropertyNamingPolicy = shape.PropertyNamingPolicy;
            json.SerializerOptions.DictionaryKeyPolicy = shape.DictionaryKeyPolicy;
            json.SerializerOptions.NumberHandling = shape.NumberHandling;
            foreach (var converter in shape.Converters)
            {
                json.SerializerOptions.Converters.Add(converter);
            }
        });
        services.Configure<RouteHandlerOptions>(routes => routes.ThrowOnBadRequest = true);
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, DjagTokenHandler>(AuthenticationScheme, "Djag API token", null);
        ApiPolicies.Add(services.AddAuthorizationBuilder());
        services.AddOpenApi(DocumentName, ApiDocument.Configure);
        return services;
    }

    /// <summary>Maps every route of the API and its OpenAPI document (<c>/api/v1/openapi.json</c>); returns the API's route group.</summary>
    public static RouteGroupBuilder MapDjagApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var options = endpoints.ServiceProvider.GetRequiredService<IOptions<DjagApiOptions>>().Value;
        var api = endpoints.MapGroup(RoutePrefix)
            .WithGroupName(DocumentName)
            .WithMetadata(new BodySizeLimit(options.MaxRequestBodySize));
        ((IEndpointConventionBuilder)api).Finally(ApiProblems.HandleErrors);
        HealthEndpoints.Map(api);

        var secured = api.MapGroup("").RequireAuthorization(ApiPolicies.Read).ProducesProblem(StatusCodes.Status401Unauthorized);
        TaskEndpoints.Map(secured);
        CrontabEndpoints.Map(secured);
        DependencyEndpoints.Map(secured);
        ScheduleEndpoints.Map(secured);
        RunEndpoints.Map(secured);
        DagEndpoints.Map(secured);
        WorkerEndpoints.Map(secured);

        endpoints.MapOpenApi(RoutePrefix + "/openapi.json").AllowAnonymous();
        return api;
    }

    /// <summary>Applied by the routing middleware on servers that support a per-request limit (Kestrel, IIS, HTTP.sys).</summary>
    private sealed record BodySizeLimit(long? MaxRequestBodySize) : IRequestSizeLimitMetadata;
}
