using System.Threading.RateLimiting;
using Djag.Admin.Security;
using Djag.Admin.Data;
using Djag.Api;
using Djag.Hosting.Telemetry;
using Djag.Hosting.Configuration;
using Djag.Persistence;
using Djag.Persistence.Accounts;
using Djag.Persistence.Operations;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Mvc.ApplicationParts;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using NATS.Client.KeyValueStore;
using NATS.Net;

namespace Djag.Admin.Hosting;

public static class AdminHostBuilderExtensions
{
    /// <summary>Loopback by default: the admin is exposed deliberately (ASPNETCORE_URLS), never by accident.</summary>
    public const string DefaultUrl = "http://127.0.0.1:5080";

    /// <summary>The login form's rate-limit policy: guessing passwords costs time.</summary>
    public const string LoginRateLimit = "login";

    /// <summary>
    /// The admin: settings from appsettings.json, then <c>DJAG_*</c> environment variables (<c>DJAG_DB</c>,
    /// <c>DJAG_NATS_URL</c>), then the command line; listens on <c>ASPNETCORE_URLS</c> or <see cref="DefaultUrl"/>.
    /// </summary>
    public static WebApplicationBuilder AddDjagAdmin(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        DjagEnvironmentVariables.AddTo(builder.Configuration);
        if (string.IsNullOrWhiteSpace(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        var services = builder.Services;
        var connection = ConnectionOptions.Register(services, builder.Configuration);
        services.AddDjagPersistence(connection.Database);
        services.TryAddScoped<DatabaseOperations>();
        services.TryAddScoped<IDjagOperations>(sp => sp.GetRequiredService<DatabaseOperations>());
        services.TryAddScoped<AccountService>();
        services.AddScoped<QuartzTriggers>();
        services.AddScoped<UserActionStore>();
        AddNats(services);
        AddSecurity(services);
        services.AddDjagApi();
        services.AddSystemd();
        builder.AddDjagTelemetry("djag-admin");

        services.AddRouting(o => o.LowercaseUrls = true);
        services.AddRazorPages(o =>
            {
                o.Conventions.AllowAnonymousToPage("/Login");
                o.Conventions.AllowAnonymousToPage("/Error");
                o.Conventions.ConfigureFilter(new WritesNeedAdminFilter());
            })
            // Optional form fields are plain strings here; the write path says what is required, beside the field.
            .AddMvcOptions(o => o.SuppressImplicitRequiredAttributeForNonNullableReferenceTypes = true)
            .ConfigureApplicationPartManager(AddAdminPages);
        return builder;
    }

    /// <summary>The middleware, the pages and the HTTP API under <c>/api/v1</c>.</summary>
    public static WebApplication UseDjagAdmin(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseForwardedHeaders();
        app.UseMiddleware<TlsOrLoopback>();

        // The API answers with problem details of its own; only pages get the HTML error page.
        app.UseWhen(c => !c.Request.Path.StartsWithSegments("/api"), pages =>
        {
            pages.UseExceptionHandler("/Error");
            pages.UseStatusCodePagesWithReExecute("/Error", "?code={0}");
        });
        app.UseMiddleware<SecurityHeaders>();
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = new ManifestEmbeddedFileProvider(typeof(AdminHostBuilderExtensions).Assembly, "wwwroot"),
        });
        app.UseRouting();
        app.UseRateLimiter();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapGet("/health", () => Results.Json(new { status = "ok" })).AllowAnonymous();
        app.MapRazorPages();
        app.MapDjagApi();
        return app;
    }

    private static void AddNats(IServiceCollection services)
    {
        // NATS is needed only by the workers page; the connection is made on first use, so the admin starts
        // (and shows everything else) while NATS is down.
        services.AddSingleton(sp => new NatsConnection(new NatsOpts
        {
            Url = sp.GetRequiredService<IOptions<ConnectionOptions>>().Value.NatsUrl,
            Name = "djag-admin",
            LoggerFactory = sp.GetRequiredService<ILoggerFactory>(),
        }));
        services.AddSingleton<INatsKVContext>(sp => sp.GetRequiredService<NatsConnection>().CreateKeyValueStoreContext());
    }

    private static void AddSecurity(IServiceCollection services)
    {
        services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme)
            .AddCookie(o =>
            {
                o.Cookie.Name = "djag.session";
                o.Cookie.HttpOnly = true;
                o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest; // Secure over HTTPS; see TlsOrLoopback
                o.Cookie.SameSite = SameSiteMode.Strict;
                o.ExpireTimeSpan = TimeSpan.FromHours(8);
                o.SlidingExpiration = true;
                o.LoginPath = "/login";
                o.LogoutPath = "/logout";
                o.AccessDeniedPath = "/denied";
            });
        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "djag.antiforgery";
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.Cookie.SameSite = SameSiteMode.Strict;
        });

        // Behind a TLS-terminating proxy on this machine, X-Forwarded-Proto tells the admin the request was HTTPS
        // (only loopback proxies are trusted, the default), so its cookies are Secure.
        services.Configure<ForwardedHeadersOptions>(o => o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto);
        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.AddPolicy(LoginRateLimit, context => RateLimitPartition.GetFixedWindowLimiter(
                context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                _ => new FixedWindowRateLimiterOptions { PermitLimit = 30, Window = TimeSpan.FromMinutes(1) }));
        });
    }

    /// <summary>
    /// Razor Pages are discovered in the entry assembly; a host that is not djag-admin itself (the browser
    /// tests start the admin in-process) must be told where the pages are.
    /// </summary>
    private static void AddAdminPages(ApplicationPartManager manager)
    {
        var assembly = typeof(AdminHostBuilderExtensions).Assembly;
        if (manager.ApplicationParts.Any(p => p.Name == assembly.GetName().Name))
        {
            return;
        }

        foreach (var part in ApplicationPartFactory.GetApplicationPartFactory(assembly).GetApplicationParts(assembly))
        {
            manager.ApplicationParts.Add(part);
        }
    }
}
