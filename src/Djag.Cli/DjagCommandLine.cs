using System.CommandLine;
using Djag.Cli.Accounts;
using Djag.Cli.Apply;
using Djag.Cli.Cron;
using Djag.Cli.Operate;
using Djag.Cli.Runs;
using Djag.Cli.Simulate;
using Djag.Cli.Tasks;

namespace Djag.Cli;

internal static class DjagCommandLine
{
    public static RootCommand Build(CliConsole console)
    {
        var root = new RootCommand("djag: a distributed cron + DAG task scheduler")
        {
            ApplyCommand.Build(console),
            ExportCommand.Build(console),
            TasksCommand.Build(console),
            RunsCommand.Build(console),
            WhyCommand.Build(console),
            DagCommand.Build(console),
            BackfillCommand.Build(console),
            CronCommand.Build(console),
            SimulateCommand.Build(console),
        };
        foreach (var command in OperateCommands.Build(console).Concat(AccountCommands.Build(console)))
        {
            root.Add(command);
        }

        return root;
    }

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
