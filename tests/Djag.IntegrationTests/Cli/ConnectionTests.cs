using Djag.Cli;
using Djag.IntegrationTests.Infrastructure;
using Djag.IntegrationTests.Persistence;

namespace Djag.IntegrationTests.Cli;

/// <summary>Where a command goes: --db, --server, DJAG_* variables, the config file, and what happens when that fails.</summary>
public sealed class ConnectionTests(ServersFixture servers) : IDisposable
{
    private readonly DirectoryInfo _home = Directory.CreateTempSubdirectory("djag-home-");

    public void Dispose() => _home.Delete(recursive: true);

    [Fact]
    public async Task The_database_comes_from_the_flag_the_variable_or_the_config_file()
    {
        var db = await TestDatabase.CreateAsync(servers, "cli");
        await CliData.ChainAsync(db);
        var explicitConfig = WriteConfig("explicit.json", $$"""{"db": "{{Escape(db.ConnectionString)}}"}""");
        Directory.CreateDirectory(Path.Combine(_home.FullName, ".config", "djag"));
        WriteConfig(Path.Combine(".config", "djag", "config.json"), $$"""{"db": "{{Escape(db.ConnectionString)}}"}""");

        var fromVariable = await RunAsync([("DJAG_DB", db.ConnectionString)], "tasks", "list");
        var fromConfigFlag = await RunAsync([], "tasks", "list", "--config", explicitConfig);
        var fromConfigVariable = await RunAsync([("DJAG_CONFIG", explicitConfig)], "tasks", "list");
        var fromDefaultConfig = await RunAsync([("HOME", _home.FullName)], "tasks", "list");
        var flagBeatsVariable = await RunAsync([("DJAG_SERVER", "http://127.0.0.1:1/")], "tasks", "list", "--db", db.ConnectionString);

        var expected = (await CliRunner.RunAsync(db, "tasks", "list")).Out;
        Assert.Contains("extract", expected, StringComparison.Ordinal);
        Assert.All([fromVariable, fromConfigFlag, fromConfigVariable, fromDefaultConfig, flagBeatsVariable], r => Assert.Equal((0, expected, ""), (r.ExitCode, r.Out, r.Error)));
    }

    [Fact]
    public async Task No_target_or_two_targets_at_one_level_is_bad_input()
    {
        var none = await RunAsync([("HOME", _home.FullName)], "tasks", "list");
        var bothFlags = await RunAsync([], "tasks", "list", "--db", "Host=x", "--server", "http://x/");
        var bothVariables = await RunAsync([("DJAG_DB", "Host=x"), ("DJAG_SERVER", "http://x/")], "tasks", "list");
        var bothInConfig = await RunAsync([], "tasks", "list", "--config", WriteConfig("both.json", """{"db": "Host=x", "server": "http://x/"}"""));

        Assert.Equal(
            (2, "error: no database or server: pass --db CONNSTR or --server URL (with --token), or set DJAG_DB or DJAG_SERVER and DJAG_TOKEN\n"),
            (none.ExitCode, none.Error));
        Assert.Equal((2, "error: both --db and --server are set: pass --db or --server to choose\n"), (bothFlags.ExitCode, bothFlags.Error));
        Assert.Equal((2, "error: both DJAG_DB and DJAG_SERVER are set: pass --db or --server to choose\n"), (bothVariables.ExitCode, bothVariables.Error));
        Assert.Equal(2, bothInConfig.ExitCode);
        Assert.EndsWith("both.json: both db and server are set: pass --db or --server to choose\n", bothInConfig.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_config_file_connection_string_or_server_url_is_bad_input()
    {
        var unknownKey = await RunAsync([], "tasks", "list", "--config", WriteConfig("typo.json", """{"database": "Host=x"}"""));
        var notJson = await RunAsync([], "tasks", "list", "--config", WriteConfig("broken.json", "db = x"));
        var missing = await RunAsync([], "tasks", "list", "--config", Path.Combine(_home.FullName, "absent.json"));
        var badConnectionString = await RunAsync([], "tasks", "list", "--db", "Hots=x");
        var badUrl = await RunAsync([], "tasks", "list", "--server", "djag.example.com", "--token", "t");
        var noToken = await RunAsync([], "tasks", "list", "--server", "http://djag.example.com");

        Assert.All([unknownKey, notJson, missing, badConnectionString, badUrl, noToken], r => Assert.Equal(ExitCodes.BadInput, r.ExitCode));
        Assert.Contains("typo.json: not a valid config file", unknownKey.Error, StringComparison.Ordinal);
        Assert.Contains("database", unknownKey.Error, StringComparison.Ordinal);
        Assert.Contains("broken.json: not a valid config file", notJson.Error, StringComparison.Ordinal);
        Assert.StartsWith($"error: config file {Path.Combine(_home.FullName, "absent.json")}: ", missing.Error, StringComparison.Ordinal);
        Assert.StartsWith("error: --db: not a valid connection string: ", badConnectionString.Error, StringComparison.Ordinal);
        Assert.Equal("error: --server: 'djag.example.com' is not an http:// or https:// URL\n", badUrl.Error);
        Assert.Equal("error: no token for --server: pass --token TOKEN or set DJAG_TOKEN (djag tokens create NAME makes one)\n", noToken.Error);
    }

    [Fact]
    public async Task An_unreachable_server_exits_1_with_what_failed()
    {
        var run = await CliRunner.RunAsync(
            TimeProvider.System,
            c => c with { HttpHandler = () => new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5) } },
            "tasks", "list", "--server", "http://127.0.0.1:1/", "--token", "t");

        Assert.Equal(ExitCodes.Failed, run.ExitCode);
        Assert.StartsWith("error: server: cannot reach http://127.0.0.1:1/: ", run.Error, StringComparison.Ordinal);
        Assert.Equal("", run.Out);
    }

    [Fact]
    public async Task A_database_without_the_schema_exits_1_with_a_hint()
    {
        var connectionString = await servers.NewDatabaseAsync("cli");

        var run = await RunAsync([], "tasks", "list", "--db", connectionString);

        Assert.Equal(ExitCodes.Failed, run.ExitCode);
        Assert.StartsWith("error: database: ", run.Error, StringComparison.Ordinal);
        Assert.EndsWith("(is the database migrated? the beat migrates it on start)\n", run.Error, StringComparison.Ordinal);
    }

    private static Task<CliRun> RunAsync((string, string)[] environment, params string[] args) =>
        CliRunner.RunAsync(TimeProvider.System, c => c with { Environment = CliRunner.Environment(environment) }, args);

    private string WriteConfig(string name, string text)
    {
        var path = Path.Combine(_home.FullName, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static string Escape(string s) => s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);
}
