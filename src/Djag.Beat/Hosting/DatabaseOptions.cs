using Microsoft.Extensions.Options;
using Npgsql;

namespace Djag.Beat.Hosting;

internal sealed class DatabaseOptions
{
    /// <summary>The configuration key of the PostgreSQL connection string (environment: <c>DJAG_DB</c>).</summary>
    public const string ConnectionStringKey = "DB";

    [ConfigurationKeyName(ConnectionStringKey)]
    public string ConnectionString { get; set; } = "";

    public void EnsureValid()
    {
        var result = new DatabaseOptionsValidator().Validate(null, this);
        if (result.Failed)
        {
            throw new OptionsValidationException(nameof(DatabaseOptions), typeof(DatabaseOptions), result.Failures);
        }
    }
}

internal sealed class DatabaseOptionsValidator : IValidateOptions<DatabaseOptions>
{
    public ValidateOptionsResult Validate(string? name, DatabaseOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return ValidateOptionsResult.Fail("DJAG_DB is not set: give the PostgreSQL connection string, e.g. DJAG_DB='Host=127.0.0.1;Database=djag;Username=djag'");
        }

        try
        {
            _ = new NpgsqlConnectionStringBuilder(options.ConnectionString);
            return ValidateOptionsResult.Success;
        }
        catch (ArgumentException ex)
        {
            return ValidateOptionsResult.Fail($"DJAG_DB is not a valid PostgreSQL connection string: {ex.Message}");
        }
    }
}
