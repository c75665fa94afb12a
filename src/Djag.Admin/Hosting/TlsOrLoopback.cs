using System.Net;

namespace Djag.Admin.Hosting;

/// <summary>
/// Session and anti-forgery cookies are Secure whenever the request came over HTTPS (directly or through a
/// proxy on this machine). Plain HTTP is served only to loopback, where no network sees the cookies (the
/// default address, or an SSH tunnel); anywhere else a plain-HTTP request is refused rather than sending a
/// session cookie in the clear. <c>/health</c> answers regardless, for probes.
/// </summary>
internal sealed class TlsOrLoopback(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        var connection = context.Connection;
        if (context.Request.IsHttps || context.Request.Path.StartsWithSegments("/health")
            || (IsLoopback(connection.LocalIpAddress) && IsLoopback(connection.RemoteIpAddress)))
        {
            return next(context);
        }

        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync("The Djag admin serves plain HTTP to loopback only: put it behind a TLS proxy (X-Forwarded-Proto: https) or use HTTPS.\n");
    }

    private static bool IsLoopback(IPAddress? address) => address is not null && IPAddress.IsLoopback(address);
}
