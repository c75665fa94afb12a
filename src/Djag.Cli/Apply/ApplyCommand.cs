using System.CommandLine;
using System.Data.Common;
using Djag.Persistence;
using Djag.Persistence.Operations;
using Djag.Persistence.Schedules;
using Djag.Scheduling.ScheduleFiles;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Djag.Cli.Apply;

/// <summary><c>djag apply</c>: makes the stored schedule match a schedule file, through <see cref="ScheduleService"/>.</summary>
internal static class ApplyCommand
{
    public const string ConnectionVariable = "DJAG_DB";

    public static Command Build(CliConsole console)
    {
        var file = new Argument<string>("file") { Description = "Schedule file (YAML, or JSON: *.json or starting with '{'); its simulate: section is ignored." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Validate against the database and print what would change; write nothing." };
        var prune = new Option<bool>("--prune") { Description = "Also delete stored tasks and dependencies the file does not list." };
        var db = new Option<string?>("--db") { HelpName = "CONNSTR", Description = $"PostgreSQL connection string; default: the {ConnectionVariable} environment variable." };

        var command = new Command("apply", """
            Create or update every task and dependency of the file in the database, in one transaction, and print
            what was added, changed and removed. Tasks are matched by name, dependencies by (depender, dependee).
            A stored task whose file entry has no cron_base keeps its stored one, so applying a file twice changes
            nothing the second time. Exit codes: 0 applied, 1 the database failed, 2 bad file or rejected change.
            """)
        {
            file,
            dryRun,
            prune,
            db,
        };
        command.SetAction((parseResult, cancellationToken) => RunAsync(
            console,
            parseResult.GetRequiredValue(file),
            new ApplyOptions(parseResult.GetValue(dryRun), parseResult.GetValue(prune)),
            parseResult.GetValue(db) ?? Environment.GetEnvironmentVariable(ConnectionVariable),
            cancellationToken));
        return command;
    }

    /// <summary>Runs the command; <paramref name="connectionString"/> comes from --db or <see cref="ConnectionVariable"/>, null when neither is set.</summary>
    internal static async Task<int> RunAsync(
        CliConsole console, string path, ApplyOptions options, string? connectionString, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return console.BadInput($"no database: pass --db CONNSTR or set {ConnectionVariable}");
        }

        try
        {
            _ = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException ex)
        {
            // The message names the bad keyword; the string itself may hold a password, so it is not echoed.
            return console.BadInput($"--db / {ConnectionVariable}: not a valid connection string: {ex.Message}");
        }

        var (document, exit) = await ScheduleFileInput.LoadAsync(console, path, cancellationToken);
        if (document is null)
        {
            return exit;
        }

        try
        {
            (await ApplyAsync(console.Time, connectionString, document, options, cancellationToken)).Print(console.Out);
            return ExitCodes.Ok;
        }
        catch (ScheduleValidationException ex)
        {
            foreach (var error in ex.Errors)
            {
                console.Error.WriteLine($"error: {error.Field}: {error.Message}");
            }

            console.Error.WriteLine("nothing was written");
            return ExitCodes.BadInput;
        }
        catch (Exception ex) when (DatabaseFailure(ex) is { } failure)
        {
            return console.Failed($"database: {failure.Message}{Hint(failure)}");
        }
    }

    private static async Task<ApplyResult> ApplyAsync(
        TimeProvider time, string connectionString, ScheduleDocument document,
        ApplyOptions options, CancellationToken cancellationToken)
    {
        var builder = new DbContextOptionsBuilder<DjagDbContext>();
        builder.UseDjagPostgres(connectionString);
        await using var db = new DjagDbContext(builder.Options);
        return await new DatabaseOperations(db, time).ApplyAsync(document, options.Prune, options.DryRun, cancellationToken);
    }

    /// <summary>The database error behind <paramref name="ex"/>, if it is one; EF wraps some in its own exceptions.</summary>
    private static Exception? DatabaseFailure(Exception ex) => ex switch
    {
        DbException or TimeoutException => ex,
        DbUpdateException or InvalidOperationException when ex.InnerException is DbException or TimeoutException => ex.InnerException,
        DbUpdateException => ex,
        _ => null,
    };

    private static string Hint(Exception failure) =>
        failure is PostgresException { SqlState: PostgresErrorCodes.UndefinedTable or PostgresErrorCodes.InvalidSchemaName }
            ? " (is the database migrated? the beat migrates it on start)"
            : "";
}

internal sealed record ApplyOptions(bool DryRun = false, bool Prune = false);
