using System.Text.RegularExpressions;
using Djag.Admin.Hosting;
using Djag.Persistence;
using Djag.Persistence.Accounts;
using Djag.TestKit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;
using Npgsql;

namespace Djag.Admin.Tests.Infrastructure;

/// <summary>
/// The real admin on Kestrel on a free loopback port (a browser needs a real socket), in this process,
/// on a database of its own migrated by <c>djag-beat migrate</c> (Djag's schema and the Quartz tables).
/// </summary>
public sealed class AdminApp : IAsyncDisposable
{
    public const string AdminUser = "alice";
    public const string ReadOnlyUser = "bob";

    private readonly WebApplication _app;

    private AdminApp(WebApplication app, string connectionString, string url)
    {
        _app = app;
        ConnectionString = connectionString;
        Url = url;
    }

    public string ConnectionString { get; }

    /// <summary>The admin's base address, e.g. http://127.0.0.1:41234 (no trailing slash).</summary>
    public string Url { get; }

    public static async Task<AdminApp> StartAsync(AdminFixture fixture, string prefix, string natsUrl = "nats://127.0.0.1:1")
    {
        ArgumentNullException.ThrowIfNull(fixture);
        var ct = TestContext.Current.CancellationToken;
        var connectionString = await fixture.Postgres.CreateDatabaseAsync(prefix, ct);
        await MigrateAsync(connectionString, ct);

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = [$"--DB={connectionString}", $"--NatsUrl={natsUrl}", "--urls=http://127.0.0.1:0"],
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = "Production",
        });
        builder.Logging.ClearProviders().AddProvider(new TestOutputLoggerProvider(TestContext.Current.TestOutputHelper));
        builder.AddDjagAdmin();
        var app = builder.Build();
        app.UseDjagAdmin();
        await app.StartAsync(ct);
        var url = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return new AdminApp(app, connectionString, url.TrimEnd('/'));
    }

    /// <summary>The process environment a beat or worker of this admin's system gets.</summary>
    public Dictionary<string, string> Environment(string natsUrl) => new()
    {
        ["DJAG_DB"] = ConnectionString,
        ["DJAG_NATS_URL"] = natsUrl,
        ["DJAG_BEAT__RUN_LEASE"] = "5",
        ["DJAG_TIMING__CHECKIN_INTERVAL"] = "00:00:01",
        ["DJAG_TIMING__IDLE_WAIT_TIME"] = "00:00:01",
        ["DJAG_LOGGING__LOG_LEVEL__DEFAULT"] = "Warning",
    };

    /// <summary>Adds the users the tests sign in as, through the same service as <c>djag users add</c>.</summary>
    public async Task<(string AdminPassword, string ReadOnlyPassword)> AddUsersAsync()
    {
        await using var scope = _app.Services.CreateAsyncScope();
        var accounts = scope.ServiceProvider.GetRequiredService<AccountService>();
        var admin = await accounts.AddUserAsync(AdminUser, Roles.Admin, null, TestContext.Current.CancellationToken);
        var readOnly = await accounts.AddUserAsync(ReadOnlyUser, Roles.ReadOnly, null, TestContext.Current.CancellationToken);
        return (admin, readOnly);
    }

    public DjagDbContext Context()
    {
        var options = new DbContextOptionsBuilder<DjagDbContext>();
        options.UseDjagPostgres(ConnectionString);
        return new DjagDbContext(options.Options);
    }

    public async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A fresh browser context (own cookies) at the laptop size, and a page in it.</summary>
    public static async Task<IPage> NewPageAsync(AdminFixture fixture)
    {
        ArgumentNullException.ThrowIfNull(fixture);
        var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = Screens.Laptop });
        context.SetDefaultTimeout(30_000);
        return await context.NewPageAsync();
    }

    public async Task LogInAsync(IPage page, string user, string password)
    {
        ArgumentNullException.ThrowIfNull(page);
        await page.GotoAsync(Url + "/login");
        await page.FillAsync("#Name", user);
        await page.FillAsync("#Password", password);
        await page.ClickAsync("button[type=submit]");

        // The first page after a start is cold (Razor views, EF Core's model and queries); beside the integration
        // tests on 2 cores it once took over 30 s. Logged in means redirected, so this polls the URL and does not
        // wait for the next page's load event, which a CI run once waited 90 s for after the redirect had happened
        // (WaitForURL waits for it even when asked to wait for the commit only); what a test checks next waits for
        // its own elements.
        await Assertions.Expect(page).Not.ToHaveURLAsync(new Regex("/login"), new PageAssertionsToHaveURLOptions { Timeout = 90_000 });
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
    }

    private static async Task MigrateAsync(string connectionString, CancellationToken ct)
    {
        await using var migrate = DjagProcess.StartOnTestRuntime("djag-beat", new Dictionary<string, string> { ["DJAG_DB"] = connectionString }, "migrate");
        var code = await migrate.WaitForExitAsync(TimeSpan.FromMinutes(5), ct);
        Assert.True(code == 0, $"djag-beat migrate failed ({code}):\n{migrate.Output}");
    }
}

/// <summary>The two screen sizes the pages must be usable at.</summary>
public static class Screens
{
    public static readonly ViewportSize Laptop = new() { Width = 1366, Height = 768 };
    public static readonly ViewportSize Phone = new() { Width = 390, Height = 844 };

    /// <summary>Full-page screenshots of the current page at both sizes, as NAME-laptop.png and NAME-phone.png.</summary>
    public static async Task CaptureAsync(IPage page, string name)
    {
        ArgumentNullException.ThrowIfNull(page);
        foreach (var (size, suffix) in new[] { (Laptop, "laptop"), (Phone, "phone") })
        {
            await page.SetViewportSizeAsync(size.Width, size.Height);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(AdminFixture.ScreenshotDirectory, $"{name}-{suffix}.png"), FullPage = true });
        }

        await page.SetViewportSizeAsync(Laptop.Width, Laptop.Height);
    }
}
