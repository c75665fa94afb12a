using Microsoft.EntityFrameworkCore;

namespace Djag.Persistence;

public static class DjagDbContextOptions
{
    /// <summary>PostgreSQL with NodaTime types and snake_case names; the one place the provider is configured.</summary>
    public static DbContextOptionsBuilder UseDjagPostgres(this DbContextOptionsBuilder builder, string connectionString) =>
        builder
            .UseNpgsql(connectionString, npgsql => npgsql
                .UseNodaTime()
                .MigrationsHistoryTable("__EFMigrationsHistory", DjagDbContext.Schema))
            .UseSnakeCaseNamingConvention();
}
