using System.Collections.Concurrent;
using Djag.Beat.Timing;
using Djag.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NodaTime;
using Npgsql;

namespace Djag.IntegrationTests.Timing;

public sealed class TimingConfigurationTests(ServersFixture servers)
{
    [Fact]
    public void Bad_options_are_all_reported_at_once()
    {
        var services = new ServiceCollection();

        var error = Assert.Throws<OptionsValidationException>(() => services.AddDjagTiming("Host=127.0.0.1", o =>
        {
            o.CheckinInterval = TimeSpan.Zero;
            o.ThreadCount = 0;
            o.ConnectionPoolSize = 1;
            o.MisfireThreshold = TimeSpan.FromTicks(15_000_001);
            o.InstanceId = " ";
        }));

        Assert.Contains(error.Failures, f => f.StartsWith("CheckinInterval", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.StartsWith("ThreadCount", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.StartsWith("ConnectionPoolSize", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.StartsWith("MisfireThreshold must be a whole number", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.StartsWith("MaxBatchSize", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.StartsWith("InstanceId", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Host=db;Database=djag", "djag-beat timing", 0)]
    [InlineData("Host=db;Database=djag;Application Name=billing;Minimum Pool Size=20", "billing timing", 5)]
    public void Quartz_gets_a_pool_of_its_own(string connectionString, string applicationName, int minimumPoolSize)
    {
        var own = new NpgsqlConnectionStringBuilder(TimingServiceCollectionExtensions.PoolOfItsOwn(connectionString, 5));

        Assert.Equal(applicationName, own.ApplicationName);
        Assert.Equal(5, own.MaxPoolSize);
        Assert.Equal(minimumPoolSize, own.MinPoolSize);
        Assert.Equal("djag", own.Database);
    }

    [Fact]
    public async Task A_host_with_AddDjagTiming_runs_the_scheduler_until_it_stops()
    {
        var ct = TestContext.Current.CancellationToken;
        var connectionString = await TimingHarness.NewDatabaseAsync(servers);
        var fires = new ConcurrentQueue<Fire>();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton<IDueTaskHandler>(new RecordingHandler("host", fires));
        builder.Services.AddDjagTiming(connectionString, o => o.ConnectionPoolSize = 2);
        using var host = builder.Build();
        var timer = host.Services.GetRequiredService<TaskTimer>();
        await timer.ScheduleAsync(TimingHarness.Timing("tick", "*/1 * * * * *", Instant.FromDateTimeOffset(TimeProvider.System.GetUtcNow())), ct);

        await host.StartAsync(ct);
        await TimingHarness.WaitUntilAsync(() => fires.Count >= 2, TimeSpan.FromSeconds(30), "the hosted scheduler fires");
        Assert.Equal(1L, await TimingHarness.ScalarAsync<long>(connectionString, "select count(*) from qrtz_scheduler_state where sched_name = 'djag-beat'"));

        // Quartz works in a pool of its own, within its bound.
        var quartzConnections = await TimingHarness.ScalarAsync<long>(
            connectionString, "select count(*) from pg_stat_activity where datname = current_database() and application_name = 'djag-beat timing'");
        Assert.InRange(quartzConnections, 1L, 2L);
        await host.StopAsync(ct);

        // A clean stop holds no acquired or executing fire, so another beat takes the triggers at once
        // instead of waiting for this one's check-in to go stale.
        Assert.Equal(0L, await TimingHarness.ScalarAsync<long>(connectionString, "select count(*) from qrtz_fired_triggers"));
        Assert.Equal("WAITING", await TimingHarness.ScalarAsync<string>(connectionString, "select trigger_state from qrtz_triggers where trigger_name = 'tick'"));
    }
}
