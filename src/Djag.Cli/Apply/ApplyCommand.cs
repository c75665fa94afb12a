using System.CommandLine;
using Djag.Cli.Connection;
using Djag.Persistence.Schedules;

namespace Djag.Cli.Apply;

/// <summary><c>djag apply</c>: makes the stored schedule match a schedule file, through <see cref="ScheduleService"/>.</summary>
internal static class ApplyCommand
{
    public static Command Build(CliConsole console)
    {
        var file = new Argument<string>("file") { Description = "Schedule file (YAML, or JSON: *.json or starting with '{'); its simulate: section is ignored." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Validate against the database and print what would change; write nothing." };
        var prune = new Option<bool>("--prune") { Description = "Also delete stored tasks and dependencies the file does not list." };

        var command = new Command("apply", """
            Create or update every task and dependency of the file, in one transaction, and print what was added,
            changed and removed. Tasks are matched by name, dependencies by (depender, dependee). A stored task
            whose file entry has no cron_base keeps its stored one, so applying a file twice changes nothing the
            second time. Exit codes: 0 applied, 1 the database or server failed, 2 bad file or rejected change.
            """)
        {
            file,
            dryRun,
            prune,
        };
        var connection = ConnectionOptions.AddTo(command);
        command.SetAction((parseResult, cancellationToken) => CommandRunner.RunAsync(console, parseResult, connection, async operations =>
        {
            var (document, exit) = await ScheduleFileInput.LoadAsync(console, parseResult.GetRequiredValue(file), cancellationToken);
            if (document is null)
            {
                return exit;
            }

            var result = await operations.ApplyAsync(document, parseResult.GetValue(prune), parseResult.GetValue(dryRun), cancellationToken);
            result.Print(console.Out);
            return ExitCodes.Ok;
        }));
        return command;
    }
}
