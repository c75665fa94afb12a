using System.Collections.Concurrent;
using Djag.Beat.Timing;
using Djag.Scheduling;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NodaTime;
using Npgsql;
using Quartz;

namespace Djag.IntegrationTests.Timing;

/// <summary>One fire seen by a handler: which beat instance ran it, for which task and event, and when.</summary>
internal sealed record Fire(string Instance, string Task, Instant Scheduled, Instant Actual);

/// <summary>Records every call into a shared list, so several beats on one database can be compared.</summary>
internal sealed class RecordingHandler(string instance, ConcurrentQueue<Fire> fires) : IDueTaskHandler
{
    public Task OnDueAsync(string taskName, Instant scheduledFireTime, Instant actualFireTime, CancellationToken cancellationToken)
    {
        fires.Enqueue(new Fire(instance, taskName, scheduledFireTime, actualFireTime));
        return Task.CompletedTask;
    }
}

/// <summary>A beat that dies inside a fire: the handler is entered and never returns, whatever the cancellation.</summary>
internal sealed class HangingHandler : IDueTaskHandler
{
    private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _never = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Entered => _entered.Task;

    public Task OnDueAsync(string taskName, Instant scheduledFireTime, Instant actualFireTime, CancellationToken cancellationToken)
    {
        _entered.TrySetResult();
        return _never.Task;
    }

    /// <summary>Lets the hung fire end, so the dead beat's host can be disposed.</summary>
    public void Release() => _never.TrySetResult();
}

/// <summary>
/// One beat's timing engine as <see cref="TimingServiceCollectionExtensions.AddDjagTiming"/> registers it,
/// on a test database, without the rest of the beat. Several harnesses on one database form a cluster.
/// </summary>
internal sealed class TimingHarness : IAsyncDisposable
{
    private readonly ServiceProvider _provider;
    private IScheduler? _scheduler;

    private TimingHarness(ServiceProvider provider, string instance)
    {
        _provider = provider;
        Instance = instance;
    }

    public string Instance { get; }

    public TaskTimer Timer => _provider.GetRequiredService<TaskTimer>();

    /// <summary>The scheduler of this beat, kept once built: Quartz hands out no scheduler after its shutdown.</summary>
    public async ValueTask<IScheduler> SchedulerAsync() =>
        _scheduler ??= await _provider.GetRequiredService<ISchedulerFactory>().GetScheduler(TestContext.Current.CancellationToken);

    /// <summary>A beat whose handler records each fire into <paramref name="fires"/>, or is <paramref name="handler"/> when given.</summary>
    public static TimingHarness Create(
        string connectionString,
        string instance,
        ConcurrentQueue<Fire> fires,
        TimeProvider? clock = null,
        IDueTaskHandler? handler = null,
        Action<TimingOptions>? configure = null)
    {
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        services.AddSingleton(clock ?? TimeProvider.System);
        services.AddSingleton(handler ?? new RecordingHandler(instance, fires));
        services.AddDjagTiming(connectionString, o =>
        {
            o.InstanceId = instance;
            o.CheckinInterval = TimeSpan.FromSeconds(1);
            o.IdleWaitTime = TimeSpan.FromSeconds(1);
            configure?.Invoke(o);
        });
        return new TimingHarness(services.BuildServiceProvider(), instance);
    }

    public async Task StartAsync() => await (await SchedulerAsync()).Start(TestContext.Current.CancellationToken);

    public async Task StopAsync()
    {
        if (_scheduler is not { } scheduler)
        {
            return;
        }

        if (scheduler.Status is not (SchedulerStatus.Shutdown or SchedulerStatus.ShuttingDown))
        {
            await scheduler.Shutdown(waitForJobsToComplete: true, TestContext.Current.CancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _provider.DisposeAsync();
    }

    /// <summary>A fresh database with the <c>qrtz_</c> tables.</summary>
    public static async Task<string> NewDatabaseAsync(Infrastructure.ServersFixture servers)
    {
        var connectionString = await servers.NewDatabaseAsync("timing");
        await TimingServiceCollectionExtensions.ProvisionSchemaAsync(connectionString, TestContext.Current.CancellationToken);
        return connectionString;
    }

    public static TaskTiming Timing(string name, string cron, Instant startAfter, string zone = "UTC", MisfirePolicy misfire = MisfirePolicy.RunAll, int graceSeconds = 0) =>
        new(name, CronSchedule.Parse(cron, zone), startAfter, misfire, Duration.FromSeconds(graceSeconds));

    public static async Task<T?> ScalarAsync<T>(string connectionString, string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        var result = await command.ExecuteScalarAsync(TestContext.Current.CancellationToken);
        return result is null or DBNull ? default : (T)result;
    }

    /// <summary>Every row of <paramref name="sql"/>, each column as text (null as an empty string).</summary>
    public static async Task<List<string[]>> RowsAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        var rows = new List<string[]>();
        while (await reader.ReadAsync(TestContext.Current.CancellationToken))
        {
            rows.Add(Enumerable.Range(0, reader.FieldCount)
                .Select(i => reader.IsDBNull(i) ? "" : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture)!)
                .ToArray());
        }

        return rows;
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; fails after <paramref name="timeout"/>.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = TimeProvider.System.GetTimestamp() + (long)(timeout.TotalSeconds * TimeProvider.System.TimestampFrequency);
        while (!condition())
        {
            if (TimeProvider.System.GetTimestamp() > deadline)
            {
                Assert.Fail($"timed out after {timeout} waiting until {what}");
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }
}
