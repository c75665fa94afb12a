using Djag.IntegrationTests.Infrastructure;
using Djag.Persistence;
using Djag.Persistence.Schedules;
using Djag.Scheduling;
using Djag.TestKit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Djag.IntegrationTests.Persistence;

/// <summary>A freshly migrated database of one test, with a fake clock for the write path.</summary>
internal sealed class TestDatabase
{
    private TestDatabase(string connectionString, FakeTimeProvider clock)
    {
        ConnectionString = connectionString;
        Clock = clock;
    }

    public string ConnectionString { get; }
    public FakeTimeProvider Clock { get; }

    public static Task<TestDatabase> CreateAsync(ServersFixture servers, string prefix) => CreateAsync(servers.Postgres, prefix);

    /// <summary>A database on <paramref name="server"/>: a test that restarts PostgreSQL brings a server of its own.</summary>
    public static async Task<TestDatabase> CreateAsync(PostgresServer server, string prefix)
    {
        var db = new TestDatabase(await server.CreateDatabaseAsync(prefix, TestContext.Current.CancellationToken), new FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero)));
        await using var context = db.Context();
        await context.MigrateAsync(TestContext.Current.CancellationToken);
        return db;
    }

    public DjagDbContext Context()
    {
        var options = new DbContextOptionsBuilder<DjagDbContext>();
        options.UseDjagPostgres(ConnectionString);
        return new DjagDbContext(options.Options);
    }

    /// <summary>Applies a change through the one write path, in a context of its own.</summary>
    public async Task<ScheduleChangeResult> ApplyAsync(ScheduleChange change)
    {
        await using var context = Context();
        return await new ScheduleService(context, Clock).ApplyAsync(change, TestContext.Current.CancellationToken);
    }

    public async Task<long> CountAsync(string table)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand($"SELECT count(*) FROM djag.{table}", connection);
        return (long)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }

    public async Task<int> ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>Waits until a session of this database waits for a lock in a statement that contains <paramref name="statement"/>.</summary>
    public async Task WaitForLockWaitAsync(string statement, TimeSpan timeout)
    {
        var deadline = TimeProvider.System.GetUtcNow() + timeout;
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND strpos(query, $1) > 0",
            connection) { Parameters = { new() { Value = statement } } };
        while ((long)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))! == 0)
        {
            Assert.True(TimeProvider.System.GetUtcNow() < deadline, $"no statement with '{statement}' waited for a lock within {timeout}");
            await System.Threading.Tasks.Task.Delay(10, TestContext.Current.CancellationToken);
        }
    }

    public static CrontabSpec Every(string expression, string timezone = "UTC")
    {
        Assert.True(CronFields.TryParse(expression, out var fields, out var error), error);
        return new CrontabSpec(fields!, timezone);
    }

    public static TaskEdit Task(string name, string cron = "*/5 * * * *") =>
        new() { Name = name, Task = "etl." + name, Crontab = Every(cron) };
}
