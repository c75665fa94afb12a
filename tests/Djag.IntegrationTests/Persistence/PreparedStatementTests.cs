using Djag.IntegrationTests.Infrastructure;
using Djag.Persistence;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Djag.IntegrationTests.Persistence;

public sealed class PreparedStatementTests(ServersFixture servers)
{
    [Theory]
    [InlineData("Host=127.0.0.1;Database=djag", 64)]
    [InlineData("Host=127.0.0.1;Database=djag;Max Auto Prepare=5", 5)]
    [InlineData("Host=127.0.0.1;Database=djag;maxautoprepare=0", 0)]
    public void A_connection_string_prepares_statements_unless_it_says_otherwise(string given, int expected)
    {
        var tuned = new NpgsqlConnectionStringBuilder(DjagDbContextOptions.WithPreparedStatements(given));

        Assert.Equal(expected, tuned.MaxAutoPrepare);
        Assert.Equal("127.0.0.1", tuned.Host);
        Assert.Equal("djag", tuned.Database);
    }

    [Fact]
    public async Task A_statement_the_context_repeats_is_prepared_in_PostgreSQL()
    {
        var ct = TestContext.Current.CancellationToken;
        var db = await TestDatabase.CreateAsync(servers, "prepared");
        await using var context = db.Context();
        await context.Database.OpenConnectionAsync(ct);

        // Npgsql prepares a statement on its fifth use (AutoPrepareMinUsages).
        for (var i = 0; i < 6; i++)
        {
            await context.PeriodicTasks.Where(t => t.Name == "none").ToListAsync(ct);
        }

        var prepared = await context.Database.SqlQueryRaw<string>("SELECT statement AS \"Value\" FROM pg_prepared_statements").ToListAsync(ct);
        Assert.Contains(prepared, s => s.Contains("periodic_tasks", StringComparison.Ordinal));
    }
}
