using System.CommandLine;
using Djag.Cli.Apply;
using Djag.Cli.Cron;
using Djag.Cli.Simulate;

namespace Djag.Cli;

internal static class DjagCommandLine
{
    public static RootCommand Build(CliConsole console) =>
        new("djag: a distributed cron + DAG task scheduler")
        {
            ApplyCommand.Build(console),
            CronCommand.Build(console),
            SimulateCommand.Build(console),
        };

    public static async Task<int> InvokeAsync(string[] args, CliConsole console, CancellationToken cancellationToken = default)
    {
        var parseResult = Build(console).Parse(args);
        if (parseResult.Errors.Count > 0)
        {
            // System.CommandLine exits 1 on a parse error; for djag a bad flag is bad input (2).
            foreach (var error in parseResult.Errors)
            {
                console.Error.WriteLine($"error: {error.Message}");
            }

            console.Error.WriteLine("Run 'djag --help' (or 'djag COMMAND --help') for usage.");
            return ExitCodes.BadInput;
        }

        var configuration = new InvocationConfiguration { Output = console.Out, Error = console.Error };
        return await parseResult.InvokeAsync(configuration, cancellationToken);
    }
}
