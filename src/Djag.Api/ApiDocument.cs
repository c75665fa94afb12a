using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Djag.Api;

/// <summary>The OpenAPI document at /api/v1/openapi.json: the API's endpoints only, and how to authenticate.</summary>
internal static class ApiDocument
{
    public static void Configure(OpenApiOptions options)
    {
        // The host may map endpoints of its own (the admin's pages); they are not part of the API.
        options.ShouldInclude = description => description.GroupName == DjagApi.DocumentName;
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new OpenApiInfo
            {
                Title = "Djag API",
                Version = DjagApi.DocumentName,
                Description = "Schedules, runs and operations of Djag. Errors are RFC 7807 problem details with the extensions "
                    + "kind (invalid, not_found, conflict, unauthorized, forbidden) and errors ([{field, message}]).",
            };
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[DjagApi.AuthenticationScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "A token from `djag tokens create`: read_only reads, admin also writes and operates.",
            };
            document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(DjagApi.AuthenticationScheme, document)] = [] }];
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, context, _) =>
        {
            if (context.Description.ActionDescriptor.EndpointMetadata.OfType<IAllowAnonymous>().Any())
            {
                operation.Security = [];
            }

            return Task.CompletedTask;
        });
    }
}
