using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Djag.Api.Problems;
using Djag.Persistence.Accounts;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Djag.Api.Security;

/// <summary>
/// The "DjagToken" scheme: <c>Authorization: Bearer djag_...</c>, looked up by its hash. The identity is named
/// after the token and carries its role (<see cref="Roles"/>) as the role claim the policies check.
/// </summary>
internal sealed class DjagTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, AccountService accounts)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    private const string Bearer = "Bearer";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!AuthenticationHeaderValue.TryParse(Request.Headers.Authorization.ToString(), out var header)
            || !string.Equals(header.Scheme, Bearer, StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.NoResult();
        }

        if (string.IsNullOrWhiteSpace(header.Parameter))
        {
            return AuthenticateResult.Fail("the Authorization header holds no token");
        }

        var token = await accounts.FindTokenAsync(header.Parameter, Context.RequestAborted);
        if (token is null)
        {
            return AuthenticateResult.Fail("the token is not valid: mistyped, or revoked");
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, token.Name), new Claim(ClaimTypes.Role, token.Role)], Scheme.Name);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        Response.Headers.WWWAuthenticate = Bearer;
        var detail = result.Failure?.Message ?? "a token is required: send Authorization: Bearer djag_... (djag tokens create)";
        await ApiProblems.WriteAsync(Context, ApiProblems.Create(StatusCodes.Status401Unauthorized, ApiProblems.Unauthorized, detail, []));
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        var role = Context.User.FindFirstValue(ClaimTypes.Role) ?? "no role";
        var detail = $"the token's role is {role}: writing and operating need a token with the role {Roles.Admin}";
        return ApiProblems.WriteAsync(Context, ApiProblems.Create(StatusCodes.Status403Forbidden, ApiProblems.Forbidden, detail, []));
    }
}
