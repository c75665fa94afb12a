using Djag.Contracts;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Client.KeyValueStore;

namespace Djag.Hosting.Nats;

/// <summary>
/// Creates the stream and buckets of <see cref="DjagNames"/> when they are missing. The beat and the
/// workers both call it at start, so either may start first; what exists is left as it is (an operator
/// may have tuned limits), except that a runs stream without work-queue retention is refused.
/// </summary>
public static class DjagNatsSetup
{
    /// <summary>JetStream's "stream name already in use with a different configuration".</summary>
    private const int StreamNameExistsErrCode = 10058;

    /// <summary>
    /// How often a create is asked in all when JetStream does not answer it within the request timeout: on a
    /// cluster, a replicated stream is created by the meta leader and its replicas, which took longer than
    /// NATS.Net's 5 s on a loaded machine with the beat and two workers creating the same ones at once.
    /// Asking again is safe: a create of what exists with the same configuration succeeds.
    /// </summary>
    private const int UnansweredAttempts = 3;

    /// <summary>How long a worker may hold a run without acknowledging progress before JetStream hands it to another worker.</summary>
    public static readonly TimeSpan DefaultAckWait = TimeSpan.FromSeconds(30);

    public static StreamConfig RunsStreamConfig(int replicas = DjagNatsOptions.DefaultReplicas) => new(DjagNames.RunsStream, [DjagNames.RunsSubjects])
    {
        NumReplicas = replicas,
        Retention = StreamConfigRetention.Workqueue,
        Storage = StreamConfigStorage.File,
        DuplicateWindow = DjagNames.DuplicateWindow,
    };

    public static NatsKVConfig RunReportsBucketConfig(int replicas = DjagNatsOptions.DefaultReplicas) => new(DjagNames.RunReportsBucket)
    {
        NumberOfReplicas = replicas,
        History = 1,
        MaxAge = DjagNames.RunReportsMaxAge,
        Storage = NatsKVStorageType.File,
    };

    public static NatsKVConfig WorkersBucketConfig(int replicas = DjagNatsOptions.DefaultReplicas) => new(DjagNames.WorkersBucket)
    {
        NumberOfReplicas = replicas,
        History = 1,
        MaxAge = DjagNames.WorkerTtl,
        Storage = NatsKVStorageType.File,
    };

    /// <summary>
    /// The durable pull consumer that every worker of <paramref name="queue"/> shares for one priority band:
    /// explicit acks, so a run is handed to another worker only when its holder stops acknowledging progress.
    /// </summary>
    public static ConsumerConfig RunsConsumerConfig(string queue, int band, TimeSpan ackWait) =>
        new(DjagNames.ConsumerName(queue, band))
        {
            DurableName = DjagNames.ConsumerName(queue, band),
            FilterSubject = DjagNames.RunsSubjectOfBand(queue, band),
            AckPolicy = ConsumerConfigAckPolicy.Explicit,
            AckWait = ackWait,
            DeliverPolicy = ConsumerConfigDeliverPolicy.All,
            MaxDeliver = -1,
        };

    /// <summary>
    /// Creates the runs stream and both buckets if missing, with <paramref name="replicas"/> replicas
    /// (<see cref="DjagNatsOptions.Replicas"/>), and returns the buckets.
    /// </summary>
    public static async Task<DjagBuckets> EnsureStreamAndBucketsAsync(INatsJSContext js, INatsKVContext kv, int replicas, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(js);
        ArgumentNullException.ThrowIfNull(kv);
        await UntilAnsweredAsync(async () =>
        {
            await EnsureRunsStreamAsync(js, replicas, cancellationToken);
            return true;
        });
        var reports = await UntilAnsweredAsync(() => EnsureBucketAsync(kv, RunReportsBucketConfig(replicas), cancellationToken));
        var workers = await UntilAnsweredAsync(() => EnsureBucketAsync(kv, WorkersBucketConfig(replicas), cancellationToken));
        return new DjagBuckets(reports, workers);
    }

    /// <summary>Runs <paramref name="ensure"/> again when JetStream did not answer it, up to <see cref="UnansweredAttempts"/> times in all.</summary>
    private static async Task<T> UntilAnsweredAsync<T>(Func<Task<T>> ensure)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await ensure();
            }
            catch (NatsJSApiNoResponseException) when (attempt < UnansweredAttempts)
            {
                // The request timed out; the create may have happened meanwhile, which the next one finds.
            }
        }
    }

    private static async Task EnsureRunsStreamAsync(INatsJSContext js, int replicas, CancellationToken cancellationToken)
    {
        StreamConfig existing;
        try
        {
            // Creating a stream that exists with the same configuration succeeds, so racing starters agree.
            await js.CreateStreamAsync(RunsStreamConfig(replicas), cancellationToken);
            return;
        }
        catch (NatsJSApiException ex) when (ex.Error.ErrCode == StreamNameExistsErrCode)
        {
            existing = (await js.GetStreamAsync(DjagNames.RunsStream, cancellationToken: cancellationToken)).Info.Config;
        }

        if (existing.Retention != StreamConfigRetention.Workqueue)
        {
            throw new InvalidOperationException(
                $"stream {DjagNames.RunsStream} exists with {existing.Retention} retention; Djag needs work-queue retention so that each run goes to one worker (delete the stream or fix it)");
        }
    }

    private static async Task<INatsKVStore> EnsureBucketAsync(INatsKVContext kv, NatsKVConfig config, CancellationToken cancellationToken)
    {
        try
        {
            return await kv.CreateStoreAsync(config, cancellationToken);
        }
        catch (NatsJSApiException ex) when (ex.Error.ErrCode == StreamNameExistsErrCode)
        {
            return await kv.GetStoreAsync(config.Bucket, cancellationToken);
        }
    }
}

/// <summary>The two buckets of the reporting protocol.</summary>
public sealed record DjagBuckets(INatsKVStore RunReports, INatsKVStore Workers);
