using System.CommandLine;
using System.Data.Common;
using Djag.Cli.Remote;
using Djag.Persistence;
using Djag.Persistence.Operations;
using Djag.Persistence.Schedules;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Djag.Cli.Connection;

/// <summary>
/// Runs a command's body on the target its flags name and turns every refusal and failure into the
/// contract's exit code and an <c>error: FIELD: message</c> line, the same for the database and the API.
/// </summary>
internal static class CommandRunner
{
    /// <summary>Runs <paramref name="body"/> on <see cref="DatabaseOperations"/> or <see cref="HttpDjagOperations"/>.</summary>
    public static Task<int> RunAsync(
        CliConsole console, ParseResult parseResult, ConnectionOptions connection, Func<IDjagOperations, Task<int>> body) =>
        GuardAsync(console, async () =>
        {
            switch (connection.Resolve(parseResult, console.Environment))
            {
                case ServerTarget server:
                    using (var remote = HttpDjagOperations.Create(console.HttpHandler(), server.BaseAddress, server.Token))
                    {
                        return await body(remote);
                    }

                case DatabaseTarget database:
                    await using (var db = Open(database))
                    {
                        return await body(new DatabaseOperations(db, console.Time));
                    }

                default:
                    throw new InvalidOperationException("unknown connection target");
            }
        });

    /// <summary>Runs <paramref name="body"/> on the database itself (users and tokens have no API).</summary>
    public static Task<int> RunOnDatabaseAsync(
        CliConsole console, ParseResult parseResult, ConnectionOptions connection, Func<DjagDbContext, Task<int>> body) =>
        GuardAsync(console, async () =>
        {
            var target = connection.Resolve(parseResult, console.Environment) as DatabaseTarget
                ?? throw new InvalidOperationException("a database-only command resolved to a server");
            await using var db = Open(target);
            return await body(db);
        });

    private static DjagDbContext Open(DatabaseTarget target)
    {
        var builder = new DbContextOptionsBuilder<DjagDbContext>();
        builder.UseDjagPostgres(target.ConnectionString);
        return new DjagDbContext(builder.Options);
    }

    private static async Task<int> GuardAsync(CliConsole console, Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (CliInputException ex)
        {
            return console.BadInput(ex.Message);
        }
        catch (OperationException ex)
        {
            var message = $"{ex.Field}: {ex.Message}";
            return ex.Kind == OperationErrorKind.Conflict ? console.Failed(message) : console.BadInput(message);
        }
        catch (ScheduleValidationException ex)
        {
            foreach (var error in ex.Errors)
            {
                await console.Error.WriteLineAsync($"error: {error.Field}: {error.Message}");
            }

            await console.Error.WriteLineAsync("nothing was written");
            return ExitCodes.BadInput;
        }
        catch (RemoteException ex)
        {
            return console.Failed($"{ex.Field}: {ex.Message}");
        }
        catch (Exception ex) when (DatabaseFailure(ex) is { } failure)
        {
            return console.Failed($"database: {failure.Message}{Hint(failure)}");
        }
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
