using System.Data.Common;
using Microsoft.EntityFrameworkCore;

namespace Djag.Persistence;

public static class DjagDbContextOptions
{
    /// <summary>How many statements each connection keeps prepared, unless the connection string says otherwise.</summary>
    private const int MaxAutoPrepare = 64;

    /// <summary>PostgreSQL with NodaTime types and snake_case names; the one place the provider is configured.</summary>
    public static DbContextOptionsBuilder UseDjagPostgres(this DbContextOptionsBuilder builder, string connectionString) =>
        builder
            .UseNpgsql(WithPreparedStatements(connectionString), npgsql => npgsql
                .UseNodaTime()
                .MigrationsHistoryTable("__EFMigrationsHistory", DjagDbContext.Schema))
            .UseSnakeCaseNamingConvention();

    /// <summary>
    /// <paramref name="connectionString"/> with Npgsql's automatic preparation on (<c>Max Auto Prepare</c>) when it does not
    /// set it. The beat runs the same few dozen statements, Djag's and Quartz's, for every fire and report; prepared,
    /// PostgreSQL no longer parses and plans each one (a quarter less PostgreSQL CPU in the bench's burst of 1,000 tasks).
    /// </summary>
    public static string WithPreparedStatements(string connectionString)
    {
        var builder = new DbConnectionStringBuilder { ConnectionString = connectionString };
        if (builder.Keys.Cast<string>().Any(k => k.Replace(" ", "", StringComparison.Ordinal).Equals("MaxAutoPrepare", StringComparison.OrdinalIgnoreCase)))
        {
            return connectionString;
        }

        builder["Max Auto Prepare"] = MaxAutoPrepare;
        return builder.ConnectionString;
    }
}
