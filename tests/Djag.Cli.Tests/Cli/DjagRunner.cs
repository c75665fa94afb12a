using Microsoft.Extensions.Time.Testing;

namespace Djag.Cli.Tests.Cli;

internal sealed record CliRun(int ExitCode, string Out, string Error)
{
    public string[] Lines => Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
}

/// <summary>Runs the CLI in-process, with captured streams and a fake clock.</summary>
internal static class DjagRunner
{
    /// <summary>"Now" for every run: far from the example files' ranges, so nothing may depend on it by accident.</summary>
    public static readonly DateTimeOffset Now = new(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);

    public static async Task<CliRun> Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await DjagCommandLine.InvokeAsync(args, new CliConsole(output, error, new FakeTimeProvider(Now)), TestContext.Current.CancellationToken);
        return new CliRun(exitCode, output.ToString().ReplaceLineEndings("\n"), error.ToString().ReplaceLineEndings("\n"));
    }

    public static string Example(string name) => Path.Combine(AppContext.BaseDirectory, "examples", name);
}
