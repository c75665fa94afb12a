using System.Text.Json;
using Djag.Beat.Hosting;
using Djag.Contracts;
using NATS.Client.KeyValueStore;

namespace Djag.Beat.Reports;

/// <summary>
/// Watches the run-reports bucket and applies the reports as they arrive: those that arrived while the
/// previous batch was applied are applied together.
/// </summary>
internal sealed partial class ReportWatcher(
    INatsKVContext kv,
    ReportApplier applier,
    RunSupervisor supervisor,
    TimeProvider time,
    ILogger<ReportWatcher> logger) : BackgroundService
{
    /// <summary>The most reports applied in one transaction.</summary>
    private const int MaxBatch = 500;

    /// <summary>
    /// How often the server tells an idle watch it is alive. After a NATS restart the watch's consumer is gone without
    /// an error; the watcher notices by the missing heartbeats and re-creates it, so this bounds how long reports wait
    /// (FaultTests measured the stall after a NATS restart: 11-14 s with NATS.Net's 5 s default, 3.8-6 s with 1 s).
    /// </summary>
    private static readonly TimeSpan IdleHeartbeat = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var retry = Backoff.First;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var store = await kv.GetStoreAsync(DjagNames.RunReportsBucket, stoppingToken);
                var watch = store.WatchAsync<byte[]>(">", opts: new NatsKVWatchOpts { UpdatesOnly = true, IdleHeartbeat = IdleHeartbeat }, cancellationToken: stoppingToken);
                await using var updates = watch.GetAsyncEnumerator(stoppingToken);

                // Reports written while no watch was open (beat down, watch broken) are read from the bucket.
                var pending = updates.MoveNextAsync();
                await supervisor.ReconcileAsync(stoppingToken);
                retry = Backoff.First;
                var batch = new List<RunReport>();
                while (await pending)
                {
                    var entry = updates.Current;
                    if (entry.Operation == NatsKVOperation.Put && entry.Value is { } value && Parse(entry.Key, value) is { } report)
                    {
                        batch.Add(report);
                    }

                    pending = updates.MoveNextAsync();
                    if (!pending.IsCompleted || batch.Count >= MaxBatch)
                    {
                        await applier.ApplyAsync(batch, stoppingToken);
                        batch.Clear();
                    }
                }

                await applier.ApplyAsync(batch, stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogWatchFailed(logger, ex, retry);
                await Task.Delay(retry, time, stoppingToken);
                retry = Backoff.Next(retry);
            }
        }
    }

    internal RunReport? Parse(string key, byte[] value)
    {
        RunReport? report;
        try
        {
            report = JsonSerializer.Deserialize(value, DjagJsonContext.Default.RunReport);
        }
        catch (JsonException ex)
        {
            LogBadReport(logger, key, ex.Message);
            return null;
        }

        if (report is null || DjagNames.RunKey(report.RunId) != key)
        {
            LogBadReport(logger, key, "the report does not name the run of its key");
            return null;
        }

        return report;
    }

    [LoggerMessage(EventId = BeatEventIds.BadReport, Level = LogLevel.Warning, Message = "Ignored a malformed report under key {Key}: {Problem}")]
    private static partial void LogBadReport(ILogger logger, string key, string problem);

    [LoggerMessage(EventId = BeatEventIds.WatchFailed, Level = LogLevel.Warning, Message = "Watching run reports failed; retrying in {Retry}")]
    private static partial void LogWatchFailed(ILogger logger, Exception exception, TimeSpan retry);
}
