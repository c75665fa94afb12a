using Djag.Contracts;
using Djag.Worker.Nats;
using Djag.Worker.Runs;
using Microsoft.Extensions.Options;

namespace Djag.Worker.Reports;

/// <summary>
/// Keeps this worker's entry in <see cref="DjagNames.WorkersBucket"/> fresh. The bucket's max age is the TTL:
/// when the heartbeats stop (the process died), the entry expires and the beat knows the worker is gone.
/// </summary>
internal sealed partial class Heartbeat : IDisposable
{
    private static readonly TimeSpan DeleteTimeout = TimeSpan.FromSeconds(2);

    private readonly WorkerNats _nats;
    private readonly RunningRuns _running;
    private readonly TimeProvider _time;
    private readonly ILogger<Heartbeat> _logger;
    private readonly DjagWorkerOptions _options;
    private readonly string _workerId;
    private readonly CancellationTokenSource _stop = new();
    private DateTimeOffset _startedAt;
    private Task _loop = Task.CompletedTask;

    public Heartbeat(WorkerNats nats, RunningRuns running, TimeProvider time, IOptions<DjagWorkerOptions> options, ILogger<Heartbeat> logger)
    {
        _nats = nats;
        _running = running;
        _time = time;
        _logger = logger;
        _options = options.Value;
        _workerId = _options.EffectiveWorkerId;
    }

    /// <summary>Writes the first heartbeat (a failure fails the start) and keeps beating.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _startedAt = _time.GetUtcNow();
        await BeatAsync(cancellationToken);
        _loop = Task.Run(() => BeatUntilStoppedAsync(_stop.Token), CancellationToken.None);
    }

    /// <summary>Stops beating and deletes the entry: a worker that stopped cleanly is gone at once, not after the TTL.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        using var timeout = new CancellationTokenSource(DeleteTimeout, _time);
        try
        {
            await _nats.Buckets.Workers.DeleteAsync(_workerId, cancellationToken: timeout.Token);
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
        using var timer = new PeriodicTimer(DjagNames.WorkerHeartbeatInterval, _time);
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
                        LogHeartbeatRestored(_logger);
                        failing = false;
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    if (!failing)
                    {
                        LogHeartbeatFailed(_logger, ex.Message);
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
            RunningRuns = _running.Snapshot(),
            StartedAt = _startedAt,
            At = _time.GetUtcNow(),
        };
        await _nats.Buckets.Workers.PutAsync(_workerId, heartbeat, DjagSerializers.WorkerHeartbeat, cancellationToken);
    }
}
