using Djag.Cli;
using Djag.IntegrationTests.Infrastructure;
using Djag.IntegrationTests.Persistence;

namespace Djag.IntegrationTests.Apply;

internal sealed record ApplyRun(int ExitCode, string Out, string Error);

/// <summary>Runs <c>djag apply</c> in-process against a test database, with its fake clock and captured streams.</summary>
internal static class ApplyRunner
{
    public static async Task<ApplyRun> Run(TestDatabase db, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var console = new CliConsole(output, error, db.Clock);
        var exitCode = await DjagCommandLine.InvokeAsync(["apply", .. args, "--db", db.ConnectionString], console, TestContext.Current.CancellationToken);
        return new ApplyRun(exitCode, output.ToString().ReplaceLineEndings("\n"), error.ToString().ReplaceLineEndings("\n"));
    }

    /// <summary>A file of the repository's examples/ folder.</summary>
    public static string Example(string name) => Repository.File("examples", name);
}
