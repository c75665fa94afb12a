using System.CommandLine;
using Npgsql;

namespace Djag.Cli.Connection;

/// <summary>
/// The flags that say where a command works: the database (<c>--db</c>) or the HTTP API (<c>--server</c>,
/// <c>--token</c>). The first of the flags, the environment (DJAG_DB, DJAG_SERVER, DJAG_TOKEN) and the config
/// file that names a target decides; naming both a database and a server at one level is an error, because
/// silently preferring one would run a command somewhere the user did not mean.
/// </summary>
internal sealed class ConnectionOptions
{
    public const string DbVariable = "DJAG_DB";
    public const string ServerVariable = "DJAG_SERVER";
    public const string TokenVariable = "DJAG_TOKEN";

    private readonly Option<string?> _db = new("--db")
    {
        HelpName = "CONNSTR",
        Description = $"PostgreSQL connection string; default: {DbVariable}, then the config file.",
    };

    private readonly Option<string?> _config = new("--config")
    {
        HelpName = "FILE",
        Description = $"Config file (JSON: db, server, token); default: {ConfigFile.Variable}, then ~/.config/djag/config.json if it exists.",
    };

    private readonly Option<string?>? _server;
    private readonly Option<string?>? _token;

    private ConnectionOptions(bool databaseOnly)
    {
        if (!databaseOnly)
        {
            _server = new Option<string?>("--server")
            {
                HelpName = "URL",
                Description = $"Djag HTTP API base address (e.g. https://djag.example.com); default: {ServerVariable}, then the config file.",
            };
            _token = new Option<string?>("--token")
            {
                HelpName = "TOKEN",
                Description = $"API token for --server (djag tokens create); default: {TokenVariable}, then the config file. Prefer the variable: flags show in ps.",
            };
        }
    }

    /// <summary>Adds --db, --server, --token and --config to <paramref name="command"/>.</summary>
    public static ConnectionOptions AddTo(Command command) => Add(command, new ConnectionOptions(databaseOnly: false));

    /// <summary>Adds --db and --config only, for commands that work on the database alone (users, tokens).</summary>
    public static ConnectionOptions AddDatabaseOnlyTo(Command command) => Add(command, new ConnectionOptions(databaseOnly: true));

    /// <summary>The target the flags, environment or config file name; <see cref="CliInputException"/> when none or both.</summary>
    public ConnectionTarget Resolve(ParseResult parseResult, Func<string, string?> environment)
    {
        // The config file is read only when a level before it names nothing (or the token is missing).
        var config = new Lazy<(ConfigFile File, string? Path)>(() => ConfigFile.Load(parseResult.GetValue(_config), environment));
        var token = new Lazy<(string? Value, string Source)>(() => TokenOf(parseResult, environment, config));

        var levels = new Func<Level>[]
        {
            () => new Level(Flag(parseResult, _db), "--db", _server is null ? null : Flag(parseResult, _server), "--server", "both --db and --server are set"),
            () => new Level(
                ConfigFile.NonEmpty(environment(DbVariable)), DbVariable, _server is null ? null : ConfigFile.NonEmpty(environment(ServerVariable)), ServerVariable,
                $"both {DbVariable} and {ServerVariable} are set"),
            () => new Level(
                ConfigFile.NonEmpty(config.Value.File.Db), $"{config.Value.Path}: db", _server is null ? null : ConfigFile.NonEmpty(config.Value.File.Server),
                $"{config.Value.Path}: server", $"{config.Value.Path}: both db and server are set"),
        };
        foreach (var level in levels.Select(l => l()))
        {
            if (level.Db is not null && level.Server is not null)
            {
                throw new CliInputException($"{level.Both}: pass --db or --server to choose");
            }

            if (level.Db is not null)
            {
                return Database(level.Db, level.DbSource);
            }

            if (level.Server is not null)
            {
                return Server(level.Server, level.ServerSource, token.Value);
            }
        }

        throw new CliInputException(_server is null
            ? $"no database: pass --db CONNSTR or set {DbVariable} (users and tokens live in the database, not behind the API)"
            : $"no database or server: pass --db CONNSTR or --server URL (with --token), or set {DbVariable} or {ServerVariable} and {TokenVariable}");
    }

    /// <summary>What one of flags, environment and config file names; <see cref="Both"/> says it names both.</summary>
    private sealed record Level(string? Db, string DbSource, string? Server, string ServerSource, string Both);

    private static ConnectionOptions Add(Command command, ConnectionOptions options)
    {
        command.Add(options._db);
        if (options._server is not null && options._token is not null)
        {
            command.Add(options._server);
            command.Add(options._token);
        }

        command.Add(options._config);
        return options;
    }

    private (string? Value, string Source) TokenOf(
        ParseResult parseResult, Func<string, string?> environment, Lazy<(ConfigFile File, string? Path)> config)
    {
        if (_token is not null && Flag(parseResult, _token) is { } flag)
        {
            return (flag, "--token");
        }

        if (ConfigFile.NonEmpty(environment(TokenVariable)) is { } variable)
        {
            return (variable, TokenVariable);
        }

        return (ConfigFile.NonEmpty(config.Value.File.Token), $"{config.Value.Path}: token");
    }

    private static DatabaseTarget Database(string connectionString, string source)
    {
        try
        {
            _ = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException ex)
        {
            // The message names the bad keyword; the string itself may hold a password, so it is not echoed.
            throw new CliInputException($"{source}: not a valid connection string: {ex.Message}");
        }

        return new DatabaseTarget(connectionString, source);
    }

    private static ServerTarget Server(string url, string source, (string? Value, string Source) token)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new CliInputException($"{source}: '{url}' is not an http:// or https:// URL");
        }

        if (token.Value is null)
        {
            throw new CliInputException($"no token for {source}: pass --token TOKEN or set {TokenVariable} (djag tokens create NAME makes one)");
        }

        // The API's routes are relative to the base, so a server behind a path prefix (https://host/djag) works.
        var path = uri.AbsolutePath.EndsWith('/') ? uri.AbsolutePath : uri.AbsolutePath + "/";
        return new ServerTarget(new UriBuilder(uri) { Path = path, Query = "", Fragment = "" }.Uri, token.Value, source);
    }

    private static string? Flag(ParseResult parseResult, Option<string?> option) => ConfigFile.NonEmpty(parseResult.GetValue(option));
}
