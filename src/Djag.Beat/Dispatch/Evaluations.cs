using System.Threading.Channels;
using Djag.Beat.Hosting;
using Djag.Beat.Timing;
using NodaTime;

namespace Djag.Beat.Dispatch;

/// <summary>
/// Gathers the requests to evaluate tasks — trigger fires, released dependers, schedule changes — into batches
/// for the <see cref="Dispatcher"/>: while one batch is evaluated the next gathers, so a thousand tasks due on
/// the same second cost a few transactions rather than a thousand. A task requested again before its
/// evaluation started is evaluated once for both requests.
/// </summary>
/// <remarks>
/// A caller's task completes when an evaluation that began after its request has ended, so a trigger's fire
/// is over (and Quartz forgets it) only once its decision is committed: a beat that dies in between leaves the
/// fire to be recovered by the other beat. A batch that fails is evaluated again task by task, so one task
/// that cannot be evaluated holds up no other.
/// </remarks>
/// <param name="evaluate">Evaluates a batch: <see cref="Dispatcher.EvaluateAsync"/>.</param>
/// <param name="concurrency">Batches evaluated at once: one gathers (or waits on PostgreSQL) while another runs.</param>
/// <param name="time">The clock of the pauses between a released task's failed evaluations.</param>
/// <param name="logger">The logger.</param>
internal sealed partial class Evaluations(
    Func<IReadOnlyCollection<string>, CancellationToken, Task> evaluate,
    int concurrency,
    TimeProvider time,
    ILogger<Evaluations> logger) : BackgroundService, IDueTaskHandler
{
    /// <summary>The most tasks one transaction locks and evaluates.</summary>
    internal const int MaxBatch = 500;

    public Evaluations(Dispatcher dispatcher, TimeProvider time, ILogger<Evaluations> logger)
        : this(dispatcher.EvaluateAsync, 2, time, logger)
    {
    }

    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly HashSet<string> _retrying = new(StringComparer.Ordinal);
    private readonly Channel<bool> _signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private Dictionary<string, TaskCompletionSource> _pending = new(StringComparer.Ordinal);

    public Task OnDueAsync(string taskName, Instant scheduledFireTime, Instant actualFireTime, CancellationToken cancellationToken) =>
        EvaluateAsync(taskName).WaitAsync(cancellationToken);

    /// <summary>Requests an evaluation of <paramref name="name"/>; completes when one that began after this call has ended.</summary>
    public Task EvaluateAsync(string name)
    {
        lock (_gate)
        {
            if (!_pending.TryGetValue(name, out var done))
            {
                _pending[name] = done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _signal.Writer.TryWrite(true);
            }

            return done.Task;
        }
    }

    /// <summary>
    /// Requests evaluations of the tasks a completed run released, without waiting for them, so the report watcher
    /// applies the next reports meanwhile. Nothing else would evaluate a released task before its trigger's next fire,
    /// so a failed evaluation is requested again after a pause (doubling to 10 s) until one succeeds or the beat stops.
    /// </summary>
    public void Release(IEnumerable<string> names)
    {
        foreach (var name in names)
        {
            lock (_gate)
            {
                // A task pausing after a failure is evaluated after its pause, which is after this request too.
                if (_retrying.Contains(name))
                {
                    continue;
                }
            }

            _ = EvaluateUntilDoneAsync(name);
        }
    }

    private async Task EvaluateUntilDoneAsync(string name)
    {
        var pause = Backoff.First;
        while (true)
        {
            try
            {
                await EvaluateAsync(name);
                return;
            }
            catch (OperationCanceledException)
            {
                return;
            }
#pragma warning disable CA1031 // Retried below; the beat must not stop over one task.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogReleasedFailed(logger, ex, name, pause);
            }

            lock (_gate)
            {
                _retrying.Add(name);
            }

            try
            {
                await Task.Delay(pause, time, _stopping.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            finally
            {
                lock (_gate)
                {
                    _retrying.Remove(name);
                }
            }

            pause = Backoff.Next(pause);
        }
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(() => EvaluateBatchesAsync(stoppingToken), stoppingToken)));

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await base.StopAsync(cancellationToken);
        lock (_gate)
        {
            foreach (var done in _pending.Values)
            {
                done.TrySetCanceled(CancellationToken.None);
            }

            _pending.Clear();
        }
    }

    private async Task EvaluateBatchesAsync(CancellationToken stoppingToken)
    {
        while (await _signal.Reader.WaitToReadAsync(stoppingToken) && _signal.Reader.TryRead(out _))
        {
            var batch = Take();
            await EvaluateAsync(batch, stoppingToken);
        }
    }

    /// <summary>Takes up to <see cref="MaxBatch"/> pending requests; signals again when more are left.</summary>
    private Dictionary<string, TaskCompletionSource> Take()
    {
        lock (_gate)
        {
            Dictionary<string, TaskCompletionSource> batch;
            if (_pending.Count <= MaxBatch)
            {
                (batch, _pending) = (_pending, new(StringComparer.Ordinal));
                return batch;
            }

            batch = _pending.Take(MaxBatch).ToDictionary(StringComparer.Ordinal);
            foreach (var name in batch.Keys)
            {
                _pending.Remove(name);
            }

            _signal.Writer.TryWrite(true);
            return batch;
        }
    }

    private async Task EvaluateAsync(Dictionary<string, TaskCompletionSource> batch, CancellationToken ct)
    {
        if (batch.Count == 0)
        {
            return;
        }

        try
        {
            await evaluate(batch.Keys, ct);
            foreach (var done in batch.Values)
            {
                done.TrySetResult();
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            foreach (var done in batch.Values)
            {
                done.TrySetCanceled(ct);
            }
        }
#pragma warning disable CA1031 // A failed batch is retried task by task; a single task's failure goes to its callers.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            if (batch.Count == 1)
            {
                batch.Values.Single().TrySetException(ex);
                return;
            }

            LogBatchFailed(logger, ex, batch.Count);
            foreach (var single in batch)
            {
                await EvaluateAsync(new Dictionary<string, TaskCompletionSource>(StringComparer.Ordinal) { [single.Key] = single.Value }, ct);
            }
        }
    }

    public override void Dispose()
    {
        _stopping.Dispose();
        base.Dispose();
    }

    [LoggerMessage(EventId = BeatEventIds.ReleasedEvaluationFailed, Level = LogLevel.Warning, Message = "Evaluating {Task}, released by a completed run, failed; trying again in {Pause}")]
    private static partial void LogReleasedFailed(ILogger logger, Exception exception, string task, TimeSpan pause);

    [LoggerMessage(EventId = BeatEventIds.EvaluationFailed, Level = LogLevel.Warning, Message = "Evaluating a batch of {Count} tasks failed; evaluating them one by one")]
    private static partial void LogBatchFailed(ILogger logger, Exception exception, int count);
}
