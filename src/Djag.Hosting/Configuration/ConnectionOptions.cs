using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Djag.Hosting.Configuration;

/// <summary>
/// Where PostgreSQL and NATS are: <c>DJAG_DB</c> and <c>DJAG_NATS_URL</c> (or <c>--DB=</c>, <c>--NatsUrl=</c>).
/// The beat and the admin read them the same way.
/// </summary>
public sealed class ConnectionOptions
{
    public const string DatabaseKey = "DB";

    [ConfigurationKeyName(DatabaseKey)]
    public string Database { get; set; } = "";

    public string NatsUrl { get; set; } = "nats://127.0.0.1:4222";

    /// <summary>Throws with every problem at once; for commands that run before the host starts.</summary>
    public void EnsureValid()
    {
        var result = new ConnectionOptionsValidator().Validate(null, this);
        if (result.Failed)
        {
            throw new OptionsValidationException(nameof(ConnectionOptions), typeof(ConnectionOptions), result.Failures);
        }
    }

    /// <summary>
    /// Registers the options (validated at start) and returns them validated now: the stores are registered
    /// with the connection string, so a missing or bad one fails here, naming DJAG_DB.
    /// </summary>
    public static ConnectionOptions Register(IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ConnectionOptions>().Bind(configuration).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ConnectionOptions>, ConnectionOptionsValidator>();
        var connection = configuration.Get<ConnectionOptions>() ?? new ConnectionOptions();
        connection.EnsureValid();
        return connection;
    }
}

public sealed class ConnectionOptionsValidator : IValidateOptions<ConnectionOptions>
{
    public ValidateOptionsResult Validate(string? name, ConnectionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Database))
        {
            failures.Add("DJAG_DB is not set: give the PostgreSQL connection string, e.g. DJAG_DB='Host=127.0.0.1;Database=djag;Username=djag'");
        }
        else
        {
            try
            {
                _ = new NpgsqlConnectionStringBuilder(options.Database);
            }
            catch (ArgumentException ex)
            {
                failures.Add($"DJAG_DB is not a valid PostgreSQL connection string: {ex.Message}");
            }
        }

        // Several servers of a cluster are separated by commas; NATS.Net tries them in turn.
        var urls = (options.NatsUrl ?? "").Split(',', StringSplitOptions.TrimEntries);
        if (urls.Any(url => !Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("nats" or "tls" or "ws" or "wss")))
        {
            failures.Add($"DJAG_NATS_URL '{options.NatsUrl}' is not a NATS URL such as nats://127.0.0.1:4222 (or several, separated by commas)");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
