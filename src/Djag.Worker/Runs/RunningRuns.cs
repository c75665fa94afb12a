using System.Collections.Concurrent;

namespace Djag.Worker.Runs;

/// <summary>The ids of the runs this worker executes right now, for its heartbeat.</summary>
internal sealed class RunningRuns
{
    private readonly ConcurrentDictionary<long, byte> _runs = new();

    /// <summary>False when the run is already executing here (JetStream redelivered it to its own holder).</summary>
    public bool TryAdd(long runId) => _runs.TryAdd(runId, 0);

    public void Remove(long runId) => _runs.TryRemove(runId, out _);

    public IReadOnlyList<long> Snapshot() => [.. _runs.Keys.Order()];
}
