using Djag.Hosting.Nats;
using Djag.Contracts;
using Djag.Worker.Nats;
using Djag.Worker.Runs;
using Microsoft.Extensions.Options;

namespace Djag.Worker.Reports;

/// <summary>
/// Keeps this worker's entry in <see cref="DjagNames.WorkersBucket"/> fresh. The bucket's max age is the TTL:
/// when the heartbeats stop (the process died), the entry expires and the beat knows the worker is gone.
/// </summary>
internal sealed partial class Heartbeat(WorkerNats nats, RunningRuns running, TimeProvider time, IOptions<DjagWorkerOptions> options, ILogger<Heartbeat> logger)
    : IDisposable
{
    private static readonly TimeSpan DeleteTimeout = TimeSpan.FromSeconds(2);

    private readonly DjagWorkerOptions _options = options.Value;
    private readonly string _workerId = options.Value.EffectiveWorkerId;
    private readonly CancellationTokenSource _stop = new();
    private DateTimeOffset _startedAt;
    private Task _loop = Task.CompletedTask;

    /// <summary>Writes the first heartbeat (a failure fails the start) and keeps beating.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _startedAt = time.GetUtcNow();
        await BeatAsync(cancellationToken);
        _loop = Task.Run(() => BeatUntilStoppedAsync(_stop.Token), CancellationToken.None);
    }

    /// <summary>Stops beating and deletes the entry: a worker that stopped cleanly is gone at once, not after the TTL.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        using var timeout = new CancellationTokenSource(DeleteTimeout, time);
        try
        {
            await nats.Buckets.Workers.DeleteAsync(_workerId, cancellationToken: timeout.Token);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || timeout.IsCancellationRequested)
        {
            // Then the entry expires after the TTL, as if the worker had died.
        }
    }

    public void Dispose()
    {
        // Also ends the loop when the host is disposed after a start that failed half-way.
        _stop.Cancel();
        _stop.Dispose();
    }

    private async Task BeatUntilStoppedAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(DjagNames.WorkerHeartbeatInterval, time);
        var failing = false;
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                try
                {
                    await BeatAsync(stop);
                    if (failing)
                    {
                        LogHeartbeatRestored(logger);
                        failing = false;
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    if (!failing)
                    {
                        LogHeartbeatFailed(logger, ex.Message);
                        failing = true;
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
    }

    private async Task BeatAsync(CancellationToken cancellationToken)
    {
        var heartbeat = new WorkerHeartbeat
        {
            Worker = _workerId,
            Host = Environment.MachineName,
            ProcessId = Environment.ProcessId,
            Queues = _options.QueueList,
            Concurrency = _options.Concurrency,
            RunningRuns = running.Snapshot(),
            StartedAt = _startedAt,
            At = time.GetUtcNow(),
        };
        await nats.Buckets.Workers.PutAsync(_workerId, heartbeat, DjagSerializers.WorkerHeartbeat, cancellationToken);
    }
}
