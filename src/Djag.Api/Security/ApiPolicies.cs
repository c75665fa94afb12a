using Djag.Persistence.Accounts;
using Microsoft.AspNetCore.Authorization;

namespace Djag.Api.Security;

/// <summary>Who may call what: every token reads, only admin tokens write and operate.</summary>
internal static class ApiPolicies
{
    public const string Read = "djag.api.read";
    public const string Write = "djag.api.write";

    public static void Add(AuthorizationBuilder authorization) => authorization
        .AddPolicy(Read, policy => policy.AddAuthenticationSchemes(DjagApi.AuthenticationScheme).RequireRole(Roles.ReadOnly, Roles.Admin))
        .AddPolicy(Write, policy => policy.AddAuthenticationSchemes(DjagApi.AuthenticationScheme).RequireRole(Roles.Admin));
}
