using System.Collections;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.CommandLine;

namespace Djag.Hosting.Configuration;

/// <summary>
/// <c>DJAG_NATS_URL</c> sets <c>NatsUrl</c>: the environment speaks SCREAMING_SNAKE_CASE, the settings
/// PascalCase (<c>__</c> separates sections, as usual). Sits above appsettings.json and below the command line.
/// </summary>
public sealed class DjagEnvironmentVariables : ConfigurationProvider, IConfigurationSource
{
    private const string Prefix = "DJAG_";

    public static void AddTo(IConfigurationBuilder configuration)
    {
        var sources = configuration.Sources;
        var commandLine = sources.Select((source, index) => (source, index)).LastOrDefault(s => s.source is CommandLineConfigurationSource);
        sources.Insert(commandLine.source is null ? sources.Count : commandLine.index, new DjagEnvironmentVariables());
    }

    public IConfigurationProvider Build(IConfigurationBuilder builder) => this;

    public override void Load()
    {
        var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (DictionaryEntry variable in Environment.GetEnvironmentVariables())
        {
            if (variable.Key is string name && name.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase) && name.Length > Prefix.Length)
            {
                data[SettingName(name[Prefix.Length..])] = variable.Value as string;
            }
        }

        Data = data;
    }

    /// <summary><c>NATS_URL</c> → <c>NatsUrl</c>; <c>LOGGING__LOG_LEVEL__DEFAULT</c> → <c>Logging:LogLevel:Default</c>.</summary>
    public static string SettingName(string variable) =>
        string.Join(ConfigurationPath.KeyDelimiter, variable.Split("__").Select(section =>
            string.Concat(section.Split('_', StringSplitOptions.RemoveEmptyEntries)
                .Select(word => char.ToUpperInvariant(word[0]) + word[1..].ToLowerInvariant()))));
}
