using Djag.Contracts;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Client.KeyValueStore;

namespace Djag.Beat.Nats;

/// <summary>Creates the runs stream and the report buckets with the contract's settings if they are missing.</summary>
internal static class NatsSetup
{
    public static async Task EnsureAsync(INatsJSContext js, INatsKVContext kv, CancellationToken ct)
    {
        await js.CreateOrUpdateStreamAsync(
            new StreamConfig(DjagNames.RunsStream, [DjagNames.RunsSubjects])
            {
                Retention = StreamConfigRetention.Workqueue,
                Storage = StreamConfigStorage.File,
                DuplicateWindow = DjagNames.DuplicateWindow,
            },
            ct);
        await kv.CreateOrUpdateStoreAsync(
            new NatsKVConfig(DjagNames.RunReportsBucket) { History = 1, MaxAge = DjagNames.RunReportsMaxAge, Storage = NatsKVStorageType.File },
            ct);
        await kv.CreateOrUpdateStoreAsync(
            new NatsKVConfig(DjagNames.WorkersBucket) { History = 1, MaxAge = DjagNames.WorkerTtl, Storage = NatsKVStorageType.File },
            ct);
    }
}
