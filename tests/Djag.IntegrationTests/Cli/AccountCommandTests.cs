using System.Security.Cryptography;
using System.Text;
using Djag.Cli;
using Djag.IntegrationTests.Infrastructure;
using Djag.IntegrationTests.Persistence;
using Djag.Persistence.Accounts;
using Microsoft.EntityFrameworkCore;

namespace Djag.IntegrationTests.Cli;

/// <summary><c>djag users add</c> and <c>djag tokens create|revoke</c>: secrets shown once, stored only hashed.</summary>
public sealed class AccountCommandTests(ServersFixture servers)
{
    [Fact]
    public async Task Users_add_prints_a_generated_password_once_and_stores_only_its_hash()
    {
        var db = await TestDatabase.CreateAsync(servers, "cli");

        var run = await CliRunner.RunAsync(db, "users", "add", "alice", "--role", "admin");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        var password = Assert.Single(run.Lines);
        Assert.True(password.Length >= AccountService.MinPasswordLength, password);
        Assert.Equal("added user 'alice' (admin); the password above is shown only this once\n", run.Error);
        await using var context = db.Context();
        var user = await context.Users.AsNoTracking().SingleAsync(TestContext.Current.CancellationToken);
        Assert.Equal(("alice", Roles.Admin), (user.Name, user.Role));
        Assert.DoesNotContain(password, user.PasswordHash, StringComparison.Ordinal);
        Assert.NotNull(await new AccountService(context, db.Clock).SignInAsync("alice", password, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Users_add_takes_the_password_from_stdin_and_defaults_to_read_only()
    {
        var db = await TestDatabase.CreateAsync(servers, "cli");

        var run = await CliRunner.RunAsync(
            db.Clock, c => c with { In = new StringReader("correct horse battery\n") }, "users", "add", "bob", "--password-stdin", "--db", db.ConnectionString);

        Assert.Equal((ExitCodes.Ok, "added user 'bob' (read_only)\n", ""), (run.ExitCode, run.Out, run.Error));
        await using var context = db.Context();
        var user = await new AccountService(context, db.Clock).SignInAsync("bob", "correct horse battery", TestContext.Current.CancellationToken);
        Assert.Equal(Roles.ReadOnly, user?.Role);
    }

    [Fact]
    public async Task A_short_password_exits_2_and_a_taken_name_exits_1_adding_no_user()
    {
        var db = await TestDatabase.CreateAsync(servers, "cli");
        Assert.Equal(ExitCodes.Ok, (await CliRunner.RunAsync(db, "users", "add", "alice")).ExitCode);

        var shortPassword = await CliRunner.RunAsync(
            db.Clock, c => c with { In = new StringReader("short\n") }, "users", "add", "bob", "--password-stdin", "--db", db.ConnectionString);
        var taken = await CliRunner.RunAsync(db, "users", "add", "alice");
        var badName = await CliRunner.RunAsync(db, "users", "add", "bad name");

        Assert.Equal((ExitCodes.BadInput, "error: password: must be at least 12 characters\n"), (shortPassword.ExitCode, shortPassword.Error));
        Assert.Equal((ExitCodes.Failed, "error: name: a user named 'alice' exists already\n"), (taken.ExitCode, taken.Error));
        Assert.Equal((ExitCodes.BadInput, "error: name: 'bad name' is not a valid name: use 1-64 of A-Z a-z 0-9 . _ @ -\n"), (badName.ExitCode, badName.Error));
        Assert.Equal(1L, await db.CountAsync("users"));
    }

    [Fact]
    public async Task Tokens_create_prints_the_token_once_and_stores_its_sha256_only()
    {
        var db = await TestDatabase.CreateAsync(servers, "cli");

        var run = await CliRunner.RunAsync(db, "tokens", "create", "ci", "--role", "admin");

        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        var token = Assert.Single(run.Lines);
        Assert.StartsWith("djag_", token, StringComparison.Ordinal);
        Assert.Equal("created token 'ci' (admin); it is shown only this once\n", run.Error);
        await using var context = db.Context();
        var stored = await context.ApiTokens.AsNoTracking().SingleAsync(TestContext.Current.CancellationToken);
        Assert.Equal(("ci", Roles.Admin), (stored.Name, stored.Role));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token))), stored.TokenHash);
        Assert.DoesNotContain(token[5..], stored.TokenHash, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tokens_revoke_deletes_the_token_and_an_unknown_name_exits_2()
    {
        var db = await TestDatabase.CreateAsync(servers, "cli");
        var token = Assert.Single((await CliRunner.RunAsync(db, "tokens", "create", "ci")).Lines);

        var revoked = await CliRunner.RunAsync(db, "tokens", "revoke", "ci");
        var again = await CliRunner.RunAsync(db, "tokens", "revoke", "ci");

        Assert.Equal((ExitCodes.Ok, "revoked token 'ci'\n"), (revoked.ExitCode, revoked.Out));
        Assert.Equal((ExitCodes.BadInput, "error: name: no token named 'ci'\n"), (again.ExitCode, again.Error));
        await using var context = db.Context();
        Assert.Null(await new AccountService(context, db.Clock).FindTokenAsync(token, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Accounts_work_on_the_database_only()
    {
        var db = await TestDatabase.CreateAsync(servers, "cli");

        var run = await CliRunner.RunAsync(TimeProvider.System, c => c, "tokens", "create", "ci", "--server", "http://localhost:1", "--token", "t");
        var badRole = await CliRunner.RunAsync(db, "tokens", "create", "ci", "--role", "root");
        var noDatabase = await CliRunner.RunAsync(TimeProvider.System, c => c, "users", "add", "alice");
        var serverVariableIgnored = await CliRunner.RunAsync(
            db.Clock, c => c with { Environment = CliRunner.Environment(("DJAG_SERVER", "http://localhost:1/"), ("DJAG_DB", db.ConnectionString)) },
            "tokens", "create", "from-env");

        Assert.Equal(ExitCodes.BadInput, run.ExitCode);
        Assert.Contains("--server", run.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.BadInput, badRole.ExitCode);
        Assert.Contains("root", badRole.Error, StringComparison.Ordinal);
        Assert.Equal(
            (ExitCodes.BadInput, "error: no database: pass --db CONNSTR or set DJAG_DB (users and tokens live in the database, not behind the API)\n"),
            (noDatabase.ExitCode, noDatabase.Error));
        Assert.Equal(ExitCodes.Ok, serverVariableIgnored.ExitCode);
        Assert.Equal(1L, await db.CountAsync("api_tokens"));
    }
}
