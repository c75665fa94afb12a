using Djag.Contracts;
using NATS.Client.KeyValueStore;

namespace Djag.Hosting.Nats;

/// <summary>
/// The live worker fleet as the heartbeat bucket holds it: a worker's entry expires with the bucket's TTL
/// once it stops heartbeating, so what is listed is alive (or was, at most one TTL ago).
/// </summary>
public static class WorkerDirectory
{
    public static async Task<IReadOnlyList<WorkerHeartbeat>> ListAsync(INatsKVContext kv, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(kv);
        var store = await kv.GetStoreAsync(DjagNames.WorkersBucket, cancellationToken);
        var workers = new List<WorkerHeartbeat>();
        try
        {
            await foreach (var key in store.GetKeysAsync(cancellationToken: cancellationToken))
            {
                var entry = await store.TryGetEntryAsync(key, serializer: DjagSerializers.WorkerHeartbeat, cancellationToken: cancellationToken);
                if (entry.Success && entry.Value.Value is { } heartbeat)
                {
                    workers.Add(heartbeat);
                }
            }
        }
        catch (NatsKVException) when (workers.Count == 0)
        {
            // An empty bucket answers "no keys found" as an error; an empty fleet is an answer, not a failure.
        }

        return [.. workers.OrderBy(w => w.Worker, StringComparer.Ordinal)];
    }
}
