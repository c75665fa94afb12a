using Djag.Hosting.Nats;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Djag.Contracts;
using Djag.TestKit;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Client.KeyValueStore;

namespace Djag.IntegrationTests.Worker;

/// <summary>
/// The beat's side of the contract, for worker tests: a nats-server of the test's own (the stream and bucket
/// names are fixed by the contract, so tests cannot share one), publishing runs and watching their reports.
/// </summary>
internal sealed class FakeBeat : IAsyncDisposable
{
    private readonly CancellationTokenSource _stopWatching = new();
    private readonly ConcurrentDictionary<long, RunReport> _reports = new();
    private readonly ConcurrentDictionary<long, int> _startedSeen = new();
    private Task _watching = Task.CompletedTask;

    private FakeBeat(NatsServer server, NatsConnection connection)
    {
        Server = server;
        Connection = connection;
        JetStream = new NatsJSContext(connection);
        KeyValue = new NatsKVContext(JetStream);
    }

    public NatsServer Server { get; }

    public NatsConnection Connection { get; }

    public INatsJSContext JetStream { get; }

    public INatsKVContext KeyValue { get; }

    public DjagBuckets Buckets { get; private set; } = null!;

    public string Url => Server.Url;

    public static async Task<FakeBeat> StartAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        var server = await NatsServer.StartAsync(ct);
        var connection = new NatsConnection(new NatsOpts { Url = server.Url, Name = "fake beat" });
        var beat = new FakeBeat(server, connection);
        await connection.ConnectAsync();
        beat.Buckets = await DjagNatsSetup.EnsureStreamAndBucketsAsync(beat.JetStream, beat.KeyValue, DjagNatsOptions.DefaultReplicas, ct);
        beat._watching = beat.WatchReportsAsync(beat._stopWatching.Token);
        return beat;
    }

    public static RunMessage Run(long runId, string task, string kwargs = "{}", string args = "[]", int priority = 0, int? timeoutSeconds = null, string queue = "default") =>
        new()
        {
            RunId = runId,
            Name = $"test-{runId}",
            Task = task,
            Cron = new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero),
            Attempt = 1,
            Args = JsonDocument.Parse(args).RootElement.Clone(),
            Kwargs = JsonDocument.Parse(kwargs).RootElement.Clone(),
            Headers = JsonDocument.Parse("{}").RootElement.Clone(),
            Queue = queue,
            Priority = priority,
            TimeoutSeconds = timeoutSeconds,
            DispatchedAt = new DateTimeOffset(2026, 11, 29, 12, 0, 1, TimeSpan.Zero),
        };

    /// <summary>Publishes as the beat does: on the run's queue and band, the run id as the message id.</summary>
    public async Task PublishAsync(RunMessage run, string? messageId = null)
    {
        var ack = await JetStream.PublishAsync(
            DjagNames.RunsSubject(run.Queue, run.Priority),
            run,
            DjagSerializers.RunMessage,
            new NatsJSPubOpts { MsgId = messageId ?? run.RunId.ToString(CultureInfo.InvariantCulture) },
            cancellationToken: TestContext.Current.CancellationToken);
        ack.EnsureSuccess();
    }

    /// <summary>The latest report of a run, as the watch saw it.</summary>
    public RunReport? Report(long runId) => _reports.GetValueOrDefault(runId);

    public IReadOnlyDictionary<long, RunReport> Reports => _reports;

    /// <summary>How many distinct 'started' reports the watch saw for a run (a second claim would show here).</summary>
    public int StartedCount(long runId) => _startedSeen.GetValueOrDefault(runId);

    /// <summary>Reads the bucket itself rather than the watch, which takes a while to resume after a server restart.</summary>
    public Task<RunReport> WaitForFinishedAsync(long runId, TimeSpan timeout) =>
        WaitForReportAsync(runId, report => report.State == RunReportStates.Finished, timeout, "finish");

    public Task<RunReport> WaitForStartedAsync(long runId, TimeSpan timeout) =>
        WaitForReportAsync(runId, _ => true, timeout, "start");

    public async Task<RunReport?> ReadReportAsync(long runId)
    {
        var entry = await Buckets.RunReports.TryGetEntryAsync(DjagNames.RunKey(runId), serializer: DjagSerializers.RunReport, cancellationToken: TestContext.Current.CancellationToken);
        return entry.Success ? entry.Value.Value : null;
    }

    public async Task<ulong> PendingAsync(string queue = "default")
    {
        ulong total = 0;
        for (var band = 0; band < DjagNames.PriorityBands; band++)
        {
            try
            {
                var consumer = await JetStream.GetConsumerAsync(DjagNames.RunsStream, DjagNames.ConsumerName(queue, band), TestContext.Current.CancellationToken);
                total += consumer.Info.NumPending + (ulong)consumer.Info.NumAckPending;
            }
            catch (NatsJSApiException ex) when (ex.Error.Code == 404)
            {
                // No worker has created this band's consumer yet.
            }
        }

        return total;
    }

    /// <summary>Messages still in the work-queue stream: acked and terminated ones are gone.</summary>
    public async Task<ulong> MessagesInStreamAsync()
    {
        var stream = await JetStream.GetStreamAsync(DjagNames.RunsStream, cancellationToken: TestContext.Current.CancellationToken);
        return (ulong)stream.Info.State.Messages;
    }

    public async Task<ConsumerInfo> ConsumerInfoAsync(string queue, int band) =>
        (await JetStream.GetConsumerAsync(DjagNames.RunsStream, DjagNames.ConsumerName(queue, band), TestContext.Current.CancellationToken)).Info;

    public async Task<WorkerHeartbeat?> HeartbeatAsync(string workerId)
    {
        var entry = await Buckets.Workers.TryGetEntryAsync(workerId, serializer: DjagSerializers.WorkerHeartbeat, cancellationToken: TestContext.Current.CancellationToken);
        return entry.Success ? entry.Value.Value : null;
    }

    private async Task<RunReport> WaitForReportAsync(long runId, Func<RunReport, bool> condition, TimeSpan timeout, string what)
    {
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            var report = await ReadReportAsync(runId);
            if (report is not null && condition(report))
            {
                return report;
            }

            if (stopwatch.Elapsed > timeout)
            {
                Assert.Fail($"waited {timeout.TotalSeconds:0.#} s for run {runId} to {what}; last report: {Describe(report)}");
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    public static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        await WaitUntilAsync(() => Task.FromResult(condition()), timeout, what);
    }

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var stopwatch = Stopwatch.StartNew();
        while (!await condition())
        {
            if (stopwatch.Elapsed > timeout)
            {
                Assert.Fail($"waited {timeout.TotalSeconds:0.#} s for {what}");
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopWatching.CancelAsync();
        await _watching;
        _stopWatching.Dispose();
        await Connection.DisposeAsync();
        await Server.DisposeAsync();
    }

    private static string Describe(RunReport? report) =>
        report is null ? "none" : JsonSerializer.Serialize(report, DjagJsonContext.Default.RunReport);

    private async Task WatchReportsAsync(CancellationToken cancellationToken)
    {
        try
        {
            // Restarted after a server restart: the watch is an ordered consumer, and tests restart NATS.
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    await foreach (var entry in Buckets.RunReports.WatchAsync(DjagSerializers.RunReport, cancellationToken: cancellationToken))
                    {
                        var runId = long.Parse(entry.Key, CultureInfo.InvariantCulture);
                        if (entry.Operation != NatsKVOperation.Put || entry.Value is null)
                        {
                            _reports.TryRemove(runId, out _);
                            continue;
                        }

                        var previous = _reports.GetValueOrDefault(runId);
                        if (entry.Value.State == RunReportStates.Started && previous != entry.Value)
                        {
                            _startedSeen.AddOrUpdate(runId, 1, (_, n) => n + 1);
                        }

                        _reports[runId] = entry.Value;
                    }
                }
                catch (NatsException) when (!cancellationToken.IsCancellationRequested)
                {
                    await Task.Delay(100, cancellationToken);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Disposed.
        }
    }
}
