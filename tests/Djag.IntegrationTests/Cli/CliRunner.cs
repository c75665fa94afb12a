using Djag.Cli;
using Djag.IntegrationTests.Persistence;

namespace Djag.IntegrationTests.Cli;

internal sealed record CliRun(int ExitCode, string Out, string Error)
{
    public string[] Lines => Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
}

/// <summary>
/// Runs <c>djag</c> in-process with captured streams, the test database's fake clock and an empty
/// environment, so no DJAG_* variable of the machine leaks in.
/// </summary>
internal static class CliRunner
{
    /// <summary>Runs a command against <paramref name="db"/> (<c>--db</c> appended).</summary>
    public static Task<CliRun> RunAsync(TestDatabase db, params string[] args) =>
        RunAsync(db.Clock, c => c, [.. args, "--db", db.ConnectionString]);

    /// <summary>Runs a command through the HTTP client against <see cref="FakeApiServer"/> on <paramref name="db"/>.</summary>
    public static Task<CliRun> RunRemoteAsync(TestDatabase db, params string[] args) =>
        RunAsync(db.Clock, c => c with { HttpHandler = () => new FakeApiServer(db) }, [.. args, "--server", FakeApiServer.Url, "--token", FakeApiServer.Token]);

    /// <summary>Runs a command with a console changed by <paramref name="configure"/> (environment, stdin, delay, HTTP).</summary>
    public static async Task<CliRun> RunAsync(TimeProvider time, Func<CliConsole, CliConsole> configure, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var console = configure(new CliConsole(output, error, time));
        var exitCode = await DjagCommandLine.InvokeAsync(args, console, TestContext.Current.CancellationToken);
        // Only \r\n is normalized: a lone \r is the progress bar redrawing its line.
        return new CliRun(exitCode, output.ToString().Replace("\r\n", "\n", StringComparison.Ordinal), error.ToString().Replace("\r\n", "\n", StringComparison.Ordinal));
    }

    /// <summary>An environment of just these variables.</summary>
    public static Func<string, string?> Environment(params (string Name, string Value)[] variables)
    {
        var map = variables.ToDictionary(v => v.Name, v => v.Value, StringComparer.Ordinal);
        return name => map.GetValueOrDefault(name);
    }
}
