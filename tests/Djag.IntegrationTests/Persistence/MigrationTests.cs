using Djag.Beat.Hosting;
using Djag.Beat.Timing;
using Djag.IntegrationTests.Infrastructure;
using Djag.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;

namespace Djag.IntegrationTests.Persistence;

public sealed class MigrationTests(ServersFixture servers)
{
    [Fact]
    public async Task The_model_has_no_changes_missing_from_the_migrations()
    {
        var db = await TestDatabase.CreateAsync(servers, "migrations");
        await using var context = db.Context();

        Assert.False(context.Database.HasPendingModelChanges(), "the model changed: add a migration (see DjagDbContext)");
        Assert.Empty(await context.Database.GetPendingMigrationsAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Beat_migrate_brings_an_empty_database_and_the_job_store_up_to_date_and_can_run_again()
    {
        var connectionString = await servers.NewDatabaseAsync("migrate");

        Assert.Equal(0, await RunBeatAsync(connectionString, "migrate"));
        Assert.Equal(0, await RunBeatAsync(connectionString, "migrate"));

        var options = new DbContextOptionsBuilder<DjagDbContext>();
        options.UseDjagPostgres(connectionString);
        await using var context = new DjagDbContext(options.Options);
        Assert.Empty(await context.Database.GetPendingMigrationsAsync(TestContext.Current.CancellationToken));
        Assert.Equal(0, await context.PeriodicTasks.CountAsync(TestContext.Current.CancellationToken));
        Assert.Equal(0, await context.Database.SqlQueryRaw<long>("SELECT count(*) AS \"Value\" FROM qrtz_triggers").SingleAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task The_beat_refuses_to_start_on_a_database_that_was_not_migrated()
    {
        var connectionString = await servers.NewDatabaseAsync("unmigrated");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => RunBeatAsync(connectionString));

        Assert.Contains("djag-beat migrate", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_beat_refuses_to_start_without_a_connection_string()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => RunBeatAsync(""));

        Assert.Contains("DJAG_DB", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_beat_starts_on_a_migrated_database()
    {
        var db = await TestDatabase.CreateAsync(servers, "started");
        await TimingServiceCollectionExtensions.ProvisionSchemaAsync(db.ConnectionString, TestContext.Current.CancellationToken);
        var builder = Host.CreateApplicationBuilder([$"--DB={db.ConnectionString}", $"--NatsUrl={servers.Nats.Url}"]);
        builder.AddDjagBeat();
        using var host = builder.Build();

        await host.StartAsync(TestContext.Current.CancellationToken);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    private static async Task<int> RunBeatAsync(string connectionString, params string[] command)
    {
        string[] args = [.. command, $"--DB={connectionString}"];
        var builder = Host.CreateApplicationBuilder(args);
        builder.AddDjagBeat();
        using var host = builder.Build();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        if (command.Length == 0)
        {
            await host.StartAsync(timeout.Token);
            await host.StopAsync(timeout.Token);
            return 0;
        }

        return await host.RunDjagBeatAsync(args);
    }
}
