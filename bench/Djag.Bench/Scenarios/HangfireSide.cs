using System.Collections.Concurrent;
using Djag.Bench.Infrastructure;
using Djag.Bench.Reporting;
using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;

namespace Djag.Bench.Scenarios;

/// <summary>
/// Hangfire (Hangfire.Core + Hangfire.PostgreSql on the same PostgreSQL), configured for second-level work: 16 workers
/// (as many slots as Djag's 4 workers), LISTEN/NOTIFY long polling for the queue, the schedulers polling every second.
/// </summary>
internal sealed class HangfireSide
{
    private static readonly TimeSpan SchedulePolling = TimeSpan.FromSeconds(1);

    private readonly JobStorage _storage;
    private readonly RecurringJobManager _recurring;
    private readonly BackgroundJobClient _client;

    private HangfireSide(JobStorage storage)
    {
        _storage = storage;
        _recurring = new RecurringJobManager(storage);
        _client = new BackgroundJobClient(storage);
    }

    /// <summary>A server only while Hangfire is measured, so its polling does not load the machine while Djag is.</summary>
    private BackgroundJobServer Server() =>
        new(new BackgroundJobServerOptions { WorkerCount = 16, SchedulePollingInterval = SchedulePolling, ShutdownTimeout = TimeSpan.FromSeconds(5) }, _storage);

    public static async Task<HangfireSide> StartAsync(BenchContext bench, CancellationToken ct)
    {
        var connectionString = await bench.Servers.CreateDatabaseAsync("hangfire", ct);
        var options = new PostgreSqlStorageOptions
        {
            PrepareSchemaIfNecessary = true,
            EnableLongPolling = true,
            QueuePollInterval = TimeSpan.FromMilliseconds(200),
        };
        return new HangfireSide(new PostgreSqlStorage(new NpgsqlConnectionFactory(connectionString, options), options));
    }

    /// <summary>Lateness (ms) of <paramref name="n"/> recurring jobs due on the same second: job start − cron instant.</summary>
    /// <remarks>
    /// A recurring job created after its instant waits for the next day, so the instant is chosen far enough ahead of
    /// how long creating them takes; when that was not enough the set is made again further ahead under new ids.
    /// </remarks>
    public async Task<Distribution> RecurringAsync(int n, CancellationToken ct)
    {
        using var server = Server();
        var perJob = 0.01;
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            var prefix = $"hf{n}a{attempt}-";
            var ahead = TimeSpan.FromSeconds(5 + (2 * n * perJob));
            var at = Schedules.WholeSecondAfter(ahead);
            var cron = $"{at.Second} {at.Minute} {at.Hour} * * *";
            var options = new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc };
            var clock = System.Diagnostics.Stopwatch.StartNew();
            for (var i = 0; i < n; i++)
            {
                var key = $"{prefix}{i:D6}";
                _recurring.AddOrUpdate(key, () => HangfireProbe.Run(key), cron, options);
            }

            perJob = Math.Max(perJob, clock.Elapsed.TotalSeconds / n);
            if (TimeProvider.System.GetUtcNow() < at - TimeSpan.FromMilliseconds(300))
            {
                await HangfireProbe.WaitAsync(prefix, n, Schedules.TimeLimit(n), ct);
                return Distribution.Of(HangfireProbe.Runs.Where(r => r.Key.StartsWith(prefix, StringComparison.Ordinal)).Select(r => (r.Value.Start - at).TotalMilliseconds));
            }
        }

        throw new InvalidOperationException($"creating {n} Hangfire recurring jobs took longer than the time chosen for it, three times");
    }

    /// <summary>Hop latencies (ms) of a chain of continuations: child start − parent end.</summary>
    public async Task<Distribution> ChainAsync(int length, CancellationToken ct)
    {
        using var server = Server();
        var at = Schedules.WholeSecondAfter(TimeSpan.FromSeconds(3 + (length * 0.01)));
        var parent = _client.Schedule(() => HangfireProbe.Run("hc-000000"), at);
        for (var i = 1; i < length; i++)
        {
            var key = $"hc-{i:D6}";
            parent = _client.ContinueJobWith(parent, () => HangfireProbe.Run(key));
        }

        await HangfireProbe.WaitAsync("hc-", length, TimeSpan.FromSeconds(60 + length), ct);
        var runs = HangfireProbe.Runs;
        return Distribution.Of(Enumerable.Range(1, length - 1).Select(i => (runs[$"hc-{i:D6}"].Start - runs[$"hc-{i - 1:D6}"].End).TotalMilliseconds));
    }
}

/// <summary>The job Hangfire runs: records when it started and ended. Static, as Hangfire calls methods by name.</summary>
internal static class HangfireProbe
{
    private static readonly ConcurrentDictionary<string, (DateTimeOffset Start, DateTimeOffset End)> Recorded = new(StringComparer.Ordinal);

    public static IReadOnlyDictionary<string, (DateTimeOffset Start, DateTimeOffset End)> Runs => Recorded;

    /// <summary>Public: Hangfire invokes only public methods.</summary>
    public static void Run(string key)
    {
        var start = TimeProvider.System.GetUtcNow();
        Recorded[key] = (start, TimeProvider.System.GetUtcNow());
    }

    /// <summary>Waits until <paramref name="count"/> jobs whose keys start with <paramref name="prefix"/> ran.</summary>
    public static async Task WaitAsync(string prefix, int count, TimeSpan timeout, CancellationToken ct)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        while (Recorded.Keys.Count(k => k.StartsWith(prefix, StringComparison.Ordinal)) < count)
        {
            try
            {
                await Task.Delay(20, limit.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new TimeoutException($"Hangfire ran {Recorded.Keys.Count(k => k.StartsWith(prefix, StringComparison.Ordinal))} of {count} jobs {prefix}* within {timeout.TotalSeconds:0} s");
            }
        }
    }
}
