using Djag.Hosting.Nats;
using Djag.Contracts;
using Djag.Worker.Nats;
using NATS.Client.KeyValueStore;

namespace Djag.Worker.Reports;

/// <summary>
/// The worker's side of <see cref="DjagNames.RunReportsBucket"/>. Every write is retried with backoff until
/// NATS stores it (a report is never dropped because the connection was down for a while); only the
/// caller's token ends the retrying.
/// </summary>
internal sealed partial class ReportStore(WorkerNats nats, TimeProvider time, ILogger<ReportStore> logger)
{
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(5);

    private INatsKVStore Bucket => nats.Buckets.RunReports;

    /// <summary>
    /// Creates the run's key with <paramref name="started"/>. The create is the claim: it fails when the key
    /// exists, and then the existing report says who owns the run.
    /// </summary>
    public Task<Claim> ClaimAsync(RunReport started, CancellationToken cancellationToken) =>
        RetryAsync(started.RunId, "started", async ct =>
        {
            var key = DjagNames.RunKey(started.RunId);
            while (true)
            {
                var created = await Bucket.TryCreateAsync(key, started, DjagSerializers.RunReport, ct);
                if (created.Success)
                {
                    return Claim.Claimed(started);
                }

                if (created.Error is not NatsKVCreateException)
                {
                    throw created.Error;
                }

                var existing = await Bucket.TryGetEntryAsync(key, serializer: DjagSerializers.RunReport, cancellationToken: ct);
                if (existing.Success && existing.Value.Value is { } report)
                {
                    // Our own create whose reply was lost on the way back (the retry finds exactly what we wrote).
                    return report == started ? Claim.Claimed(started) : Claim.Taken(report);
                }

                if (existing.Error is not (NatsKVKeyNotFoundException or NatsKVKeyDeletedException))
                {
                    throw existing.Error ?? new InvalidOperationException($"report of run {started.RunId} cannot be read");
                }

                // Deleted between the create and the read (a worker gave the run back): try to create again.
            }
        }, cancellationToken);

    /// <summary>Stores the run's final report over its started one.</summary>
    public Task FinishAsync(RunReport finished, CancellationToken cancellationToken) =>
        RetryAsync(finished.RunId, "finished", async ct =>
        {
            // A put, not a compare-and-set: the claim made the key ours, and a put can be repeated safely.
            await Bucket.PutAsync(DjagNames.RunKey(finished.RunId), finished, DjagSerializers.RunReport, ct);
            return true;
        }, cancellationToken);

    /// <summary>Deletes the run's started report so that the worker that gets the run next can claim it.</summary>
    public Task ReleaseAsync(long runId, CancellationToken cancellationToken) =>
        RetryAsync(runId, "released", async ct =>
        {
            await Bucket.DeleteAsync(DjagNames.RunKey(runId), cancellationToken: ct);
            return true;
        }, cancellationToken);

    private async Task<T> RetryAsync<T>(long runId, string what, Func<CancellationToken, ValueTask<T>> write, CancellationToken cancellationToken)
    {
        var delay = FirstRetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var result = await write(cancellationToken);
                if (attempt > 1)
                {
                    LogStoredAfterRetry(logger, what, runId, attempt);
                }

                return result;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // The first failure and then about once a minute: an outage is worth a line, not a flood.
                if (attempt % 12 == 1)
                {
                    LogWriteFailed(logger, what, runId, ex.Message);
                }
            }

            await Task.Delay(delay, time, cancellationToken);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
        }
    }
}

/// <summary>The outcome of claiming a run: it is ours, or <see cref="Existing"/> is someone's report.</summary>
internal readonly record struct Claim(bool IsOurs, RunReport Existing)
{
    public static Claim Claimed(RunReport ours) => new(true, ours);

    public static Claim Taken(RunReport existing) => new(false, existing);
}
