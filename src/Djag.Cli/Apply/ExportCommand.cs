using System.CommandLine;
using Djag.Cli.Connection;
using Djag.Cli.Output;
using Djag.Scheduling.ScheduleFiles;

namespace Djag.Cli.Apply;

/// <summary><c>djag export</c>: the stored schedule as a schedule file, which <c>djag apply</c> takes back unchanged.</summary>
internal static class ExportCommand
{
    public static Command Build(CliConsole console)
    {
        var format = OutputFormatOption.CreateChoice("yaml", "yaml or json.", "yaml", "json");
        var command = new Command("export", """
            Print every task and dependency as a schedule file. Every task carries its cron_base and timezone, so
            applying the output changes nothing; values at their defaults are left out.
            """)
        {
            format,
        };
        var connection = ConnectionOptions.AddTo(command);
        command.SetAction((parseResult, cancellationToken) => CommandRunner.RunAsync(console, parseResult, connection, async operations =>
        {
            var document = await operations.ExportAsync(cancellationToken);
            await console.Out.WriteAsync(parseResult.GetValue(format) == "json" ? ScheduleFile.ToJson(document) : ScheduleFile.ToYaml(document));
            return ExitCodes.Ok;
        }));
        return command;
    }
}
