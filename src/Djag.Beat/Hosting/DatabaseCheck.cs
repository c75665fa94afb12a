using Djag.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Djag.Beat.Hosting;

/// <summary>
/// Fails the start when PostgreSQL is unreachable or its schema is behind this build, so systemd
/// restarts the unit and the log says why, instead of a beat that runs against a wrong database.
/// </summary>
internal sealed partial class DatabaseCheck(IDbContextFactory<DjagDbContext> factory, ILogger<DatabaseCheck> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken);
        IEnumerable<string> pending;
        try
        {
            pending = await db.Database.GetPendingMigrationsAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or InvalidOperationException)
        {
            throw new InvalidOperationException($"cannot reach PostgreSQL: {ex.Message}", ex);
        }

        var missing = pending.ToList();
        if (missing.Count > 0)
        {
            throw new InvalidOperationException(
                $"the database schema is behind this build ({missing.Count} migrations pending: {string.Join(", ", missing)}); run 'djag-beat migrate'");
        }

        LogDatabaseReady(logger, db.Database.GetDbConnection().Database);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = BeatEventIds.DatabaseReady, Level = LogLevel.Information, Message = "Database {Database} is reachable and up to date")]
    private static partial void LogDatabaseReady(ILogger logger, string database);
}
