using System.Text.Json;
using System.Text.Json.Serialization;

namespace Djag.Cli.Connection;

/// <summary>
/// The optional config file, JSON: <c>{"db": "Host=...", "server": "https://...", "token": "djag_..."}</c>. It is
/// <c>--config FILE</c>, else <c>DJAG_CONFIG</c>, else <c>$XDG_CONFIG_HOME/djag/config.json</c> (default
/// <c>~/.config/djag/config.json</c>), which may be absent.
/// </summary>
internal sealed record ConfigFile(string? Db, string? Server, string? Token)
{
    public const string Variable = "DJAG_CONFIG";

    // A misspelt key would silently fall back to another target, so unknown keys are errors.
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    public static readonly ConfigFile Empty = new(null, null, null);

    /// <summary>The file and its path; <see cref="Empty"/> when none was named and the default one is absent.</summary>
    public static (ConfigFile File, string? Path) Load(string? flag, Func<string, string?> environment)
    {
        var named = NonEmpty(flag) ?? NonEmpty(environment(Variable));
        var path = named ?? DefaultPath(environment);
        if (path is null || (named is null && !File.Exists(path)))
        {
            return (Empty, null);
        }

        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliInputException($"config file {path}: {ex.Message}");
        }

        try
        {
            return (JsonSerializer.Deserialize<ConfigFile>(text, Options) ?? Empty, path);
        }
        catch (JsonException ex)
        {
            throw new CliInputException($"config file {path}: not a valid config file ({{\"db\": ..., \"server\": ..., \"token\": ...}}): {ex.Message}");
        }
    }

    private static string? DefaultPath(Func<string, string?> environment)
    {
        var configHome = NonEmpty(environment("XDG_CONFIG_HOME"))
            ?? (NonEmpty(environment("HOME")) is { } home ? Path.Combine(home, ".config") : null);
        return configHome is null ? null : Path.Combine(configHome, "djag", "config.json");
    }

    internal static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
