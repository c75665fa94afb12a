using System.Globalization;
using Djag.TestKit;
using Npgsql;

namespace Djag.Bench.Infrastructure;

/// <summary>One statement's share of the database work, from <c>pg_stat_statements</c>.</summary>
internal sealed record StatementStat(long Calls, double TotalMs, double MeanMs, string Query);

/// <summary>
/// The one PostgreSQL cluster of a bench run (the TestKit's: loopback, free port, no fsync), with
/// <c>pg_stat_statements</c> loaded when the installation has it, so each scenario can say where the database time went.
/// </summary>
internal sealed class Servers : IAsyncDisposable
{
    private Servers(PostgresServer postgres, bool statements)
    {
        Postgres = postgres;
        HasStatementStats = statements;
    }

    public PostgresServer Postgres { get; }

    public bool HasStatementStats { get; }

    public static async Task<Servers> StartAsync(CancellationToken ct)
    {
        var postgres = await PostgresServer.StartAsync(ct);
        try
        {
            var statements = await EnableStatementStatsAsync(postgres, ct);
            return new Servers(postgres, statements);
        }
        catch
        {
            await postgres.DisposeAsync();
            throw;
        }
    }

    public Task<string> CreateDatabaseAsync(string prefix, CancellationToken ct) => Postgres.CreateDatabaseAsync(prefix, ct);

    /// <summary>CPU seconds PostgreSQL has used so far: the postmaster and every backend, live or gone.</summary>
    public double CpuSeconds()
    {
        var pidFile = Path.Combine(Path.GetDirectoryName(Postgres.LogFile)!, "data", "postmaster.pid");
        var first = File.Exists(pidFile) ? File.ReadLines(pidFile).FirstOrDefault() : null;
        return int.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? ProcStats.TreeCpuSeconds(pid) : 0;
    }

    public async Task ResetStatementStatsAsync(CancellationToken ct)
    {
        if (HasStatementStats)
        {
            await ExecuteAdminAsync("SELECT pg_stat_statements_reset()", ct);
        }
    }

    /// <summary>The statements of one database that took the most time since the last reset.</summary>
    public async Task<IReadOnlyList<StatementStat>> TopStatementsAsync(string connectionString, int count, CancellationToken ct)
    {
        if (!HasStatementStats)
        {
            return [];
        }

        var database = new NpgsqlConnectionStringBuilder(connectionString).Database;
        await using var connection = new NpgsqlConnection(Postgres.AdminConnectionString);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(
            """
            SELECT s.calls, s.total_exec_time, s.mean_exec_time, s.query
            FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
            WHERE d.datname = @db
            ORDER BY s.total_exec_time DESC LIMIT @n
            """, connection);
        command.Parameters.AddWithValue("db", database!);
        command.Parameters.AddWithValue("n", count);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var stats = new List<StatementStat>();
        while (await reader.ReadAsync(ct))
        {
            stats.Add(new StatementStat(reader.GetInt64(0), reader.GetDouble(1), reader.GetDouble(2), reader.GetString(3)));
        }

        return stats;
    }

    /// <summary>
    /// Refreshes the planner's statistics of one database, as autovacuum would within its next round, so that a set fires
    /// with plans made for the rows it has. Without it a set's timing depended on autovacuum's: bare Quartz clears its
    /// tables after each set, and when autovacuum analyzed them empty, the plans its prepared statements cached then read
    /// the whole of <c>qrtz_triggers</c> for each trigger of the next set (10,000 triggers fired in 9-33 s instead of 4 s).
    /// An <c>ANALYZE</c> also invalidates the plans cached before it.
    /// </summary>
    public static async Task AnalyzeAsync(string connectionString, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand("ANALYZE", connection);
        await command.ExecuteNonQueryAsync(ct);
    }

    public async ValueTask DisposeAsync() => await Postgres.DisposeAsync();

    private static async Task<bool> EnableStatementStatsAsync(PostgresServer postgres, CancellationToken ct)
    {
        await using (var connection = new NpgsqlConnection(postgres.AdminConnectionString))
        {
            await connection.OpenAsync(ct);
            await using var available = new NpgsqlCommand("SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_stat_statements'", connection);
            if ((long)(await available.ExecuteScalarAsync(ct))! == 0)
            {
                return false;
            }

            await using var preload = new NpgsqlCommand("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'", connection);
            await preload.ExecuteNonQueryAsync(ct);
        }

        // The library loads only at server start; the pool's connections to the old server are dead after it.
        await postgres.RestartAsync(ct);
        NpgsqlConnection.ClearAllPools();
        await using (var connection = new NpgsqlConnection(postgres.AdminConnectionString))
        {
            await connection.OpenAsync(ct);
            await using var create = new NpgsqlCommand("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", connection);
            await create.ExecuteNonQueryAsync(ct);
        }

        return true;
    }

    private async Task ExecuteAdminAsync(string sql, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(Postgres.AdminConnectionString);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(ct);
    }
}
