using Djag.Admin.Tests.Infrastructure;
using Djag.TestKit;
using Microsoft.Playwright;

[assembly: AssemblyFixture(typeof(AdminFixture))]

namespace Djag.Admin.Tests.Infrastructure;

/// <summary>
/// One PostgreSQL cluster and one headless Chromium for the whole assembly. Each test takes a database of
/// its own and an admin of its own (<see cref="AdminApp"/>), and a fresh browser context (its own cookies).
/// </summary>
public sealed class AdminFixture : IAsyncLifetime
{
    /// <summary>Debian's chromium package; Playwright's own browser download is never used.</summary>
    public const string ChromiumPath = "/usr/bin/chromium";

    private PostgresServer? _postgres;
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public PostgresServer Postgres => _postgres ?? throw new InvalidOperationException("The fixture is not initialized.");

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("The fixture is not initialized.");

    /// <summary>Where the tests put their screenshots: artifacts/screenshots in the test output folder.</summary>
    public static string ScreenshotDirectory { get; } = Path.Combine(AppContext.BaseDirectory, "artifacts", "screenshots");

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"{ChromiumPath} is missing: install Debian's chromium package (scripts/test.sh does).");
        }

        Directory.CreateDirectory(ScreenshotDirectory);

        // The machine may be busy (builds of other projects): give pages time, the assertions still fail when wrong.
        Assertions.SetDefaultExpectTimeout(20_000);
        _postgres = await PostgresServer.StartAsync(TestContext.Current.CancellationToken);
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = ChromiumPath, Headless = true });
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }
    }
}
