using System.CommandLine;
using Djag.Cli.Connection;
using Djag.Persistence.Accounts;

namespace Djag.Cli.Accounts;

/// <summary>
/// <c>djag users add</c>, <c>djag tokens create|revoke</c>: accounts of the admin and the API. They work on the
/// database only: the API authenticates with these tokens, so it cannot be what creates the first one.
/// A secret is printed once, alone on stdout (so <c>TOKEN=$(djag tokens create ci)</c> works), and stored only hashed.
/// </summary>
internal static class AccountCommands
{
    public static IEnumerable<Command> Build(CliConsole console) =>
    [
        new Command("users", "Users of the admin UI (database only).") { AddUser(console) },
        new Command("tokens", "Tokens of the HTTP API (database only).") { CreateToken(console), RevokeToken(console) },
    ];

    private static Command AddUser(CliConsole console)
    {
        var name = new Argument<string>("name") { Description = "1-64 of A-Z a-z 0-9 . _ @ -" };
        var role = RoleOption();
        var passwordStdin = new Option<bool>("--password-stdin")
        {
            Description = $"Read the password from the first line of stdin (at least {AccountService.MinPasswordLength} characters) instead of generating one.",
        };
        var command = new Command("add", "Add a user. Without --password-stdin a password is generated and printed once.") { name, role, passwordStdin };
        var connection = ConnectionOptions.AddDatabaseOnlyTo(command);
        command.SetAction((parseResult, cancellationToken) => CommandRunner.RunOnDatabaseAsync(console, parseResult, connection, async db =>
        {
            string? password = null;
            if (parseResult.GetValue(passwordStdin))
            {
                password = await console.In.ReadLineAsync(cancellationToken)
                    ?? throw new CliInputException("--password-stdin: stdin is empty");
            }

            var user = parseResult.GetRequiredValue(name);
            var userRole = parseResult.GetRequiredValue(role);
            var stored = await new AccountService(db, console.Time).AddUserAsync(user, userRole, password, cancellationToken);
            if (password is null)
            {
                await console.Out.WriteLineAsync(stored);
                await console.Error.WriteLineAsync($"added user '{user}' ({userRole}); the password above is shown only this once");
            }
            else
            {
                await console.Out.WriteLineAsync($"added user '{user}' ({userRole})");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command CreateToken(CliConsole console)
    {
        var name = new Argument<string>("name") { Description = "What the token is for, e.g. ci (1-64 of A-Z a-z 0-9 . _ @ -)." };
        var role = RoleOption();
        var command = new Command("create", "Create an API token and print it once; only its SHA-256 hash is stored.") { name, role };
        var connection = ConnectionOptions.AddDatabaseOnlyTo(command);
        command.SetAction((parseResult, cancellationToken) => CommandRunner.RunOnDatabaseAsync(console, parseResult, connection, async db =>
        {
            var tokenName = parseResult.GetRequiredValue(name);
            var tokenRole = parseResult.GetRequiredValue(role);
            var token = await new AccountService(db, console.Time).CreateTokenAsync(tokenName, tokenRole, cancellationToken);
            await console.Out.WriteLineAsync(token);
            await console.Error.WriteLineAsync($"created token '{tokenName}' ({tokenRole}); it is shown only this once");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command RevokeToken(CliConsole console)
    {
        var name = new Argument<string>("name") { Description = "The token's name." };
        var command = new Command("revoke", "Delete an API token; requests with it are refused from now on.") { name };
        var connection = ConnectionOptions.AddDatabaseOnlyTo(command);
        command.SetAction((parseResult, cancellationToken) => CommandRunner.RunOnDatabaseAsync(console, parseResult, connection, async db =>
        {
            var tokenName = parseResult.GetRequiredValue(name);
            await new AccountService(db, console.Time).RevokeTokenAsync(tokenName, cancellationToken);
            await console.Out.WriteLineAsync($"revoked token '{tokenName}'");
            return ExitCodes.Ok;
        }));
        return command;
    }

    // read_only by default: a forgotten flag should not hand out the right to change the schedule.
    private static Option<string> RoleOption()
    {
        var role = new Option<string>("--role") { Description = "admin (reads and writes) or read_only (reads).", DefaultValueFactory = _ => Roles.ReadOnly };
        role.AcceptOnlyFromAmong([.. Roles.All]);
        return role;
    }
}
