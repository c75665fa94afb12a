using Djag.Persistence.Accounts;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;

namespace Djag.Admin.Security;

/// <summary>
/// Every form post writes or operates, so every POST needs the admin role: a read-only user's buttons are
/// hidden, and this refuses the request anyway. Only the login form (anonymous) and pages marked
/// <see cref="AnyRoleMayPostAttribute"/> (logout) are exempt.
/// </summary>
internal sealed class WritesNeedAdminFilter : IAsyncPageFilter
{
    public Task OnPageHandlerSelectionAsync(PageHandlerSelectedContext context) => Task.CompletedTask;

    public async Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        var request = context.HttpContext.Request;
        var metadata = context.ActionDescriptor.EndpointMetadata;
        var exempt = HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method)
            || metadata.OfType<IAllowAnonymous>().Any() || metadata.OfType<AnyRoleMayPostAttribute>().Any();
        if (!exempt && !context.HttpContext.User.IsInRole(Roles.Admin))
        {
            context.Result = new ForbidResult();
            return;
        }

        await next();
    }
}

/// <summary>A page whose posts change nothing in the schedule (logout), open to read-only users.</summary>
[AttributeUsage(AttributeTargets.Class)]
internal sealed class AnyRoleMayPostAttribute : Attribute;

internal static class UserExtensions
{
    /// <summary>Whether the signed-in user may write and operate (the admin role).</summary>
    public static bool CanWrite(this System.Security.Claims.ClaimsPrincipal user) => user.IsInRole(Roles.Admin);
}
