using Djag.Hosting.Nats;
using System.Collections.Concurrent;
using Djag.Contracts;
using Djag.Worker.Nats;
using Microsoft.Extensions.Options;
using NATS.Client.JetStream;

namespace Djag.Worker.Runs;

/// <summary>
/// Takes runs from the shared durable consumers of this worker's queues, never more than the free slots,
/// higher priority bands first, and hands each to the <see cref="RunExecutor"/>. Idle, it waits for the
/// <see cref="Doorbell"/> of a consumer to ring and then asks that one. At shutdown it stops taking, drains
/// what runs, and gives back what is left.
/// </summary>
internal sealed partial class RunConsumer(WorkerNats nats, RunExecutor executor, TimeProvider time, IOptions<DjagWorkerOptions> options, ILogger<RunConsumer> logger)
    : IDisposable
{
    /// <summary>
    /// When a bell rang but its consumer had nothing, that consumer is asked again after each of these. Usually
    /// another worker took the run; but a JetStream cluster tells core subscribers of a publish before the stream
    /// has committed it, and even a single server, when loaded, sometimes offers a new message only a little later.
    /// </summary>
    private static readonly TimeSpan[] LateRunRechecks = [TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(200)];

    /// <summary>
    /// A no-wait fetch is answered at once; one that is not was lost with a broken connection, and NATS.Net would
    /// wait for the request's expiry before giving up.
    /// </summary>
    private static readonly TimeSpan FetchTimeout = TimeSpan.FromSeconds(3);

    private static readonly TimeSpan MaxFailureBackoff = TimeSpan.FromSeconds(2);

    /// <summary>How long given-back runs get to stop and release themselves (the executor allows 3 s + 5 s of that).</summary>
    private static readonly TimeSpan GiveBackTimeout = TimeSpan.FromSeconds(10);

    private readonly DjagWorkerOptions _options = options.Value;
    private readonly int _consumerCount = DjagNames.PriorityBands * options.Value.QueueList.Count;
    private readonly SemaphoreSlim _slots = new(options.Value.Concurrency, options.Value.Concurrency);
    private readonly ConcurrentDictionary<Task, byte> _inFlight = new();
    private readonly CancellationTokenSource _stopTaking = new();
    private readonly CancellationTokenSource _giveBack = new();
    private IReadOnlyList<INatsJSConsumer> _consumers = [];
    private Doorbell? _doorbell;
    private int _firstQueue;
    private Task _loop = Task.CompletedTask;

    /// <summary>Listens for published runs and creates (or finds) the consumers; a failure here fails the worker's start.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Listening before the first round: a run published after that round rings.
        var subjects = Enumerable.Range(0, _consumerCount).Select(i => DjagNames.RunsSubjectOfBand(QueueOf(i), BandOf(i))).ToList();
        _doorbell = await Doorbell.SubscribeAsync(nats.Connection, subjects, time, logger);
        _consumers = await CreateConsumersAsync(cancellationToken);
        _loop = Task.Run(() => TakeRunsAsync(_stopTaking.Token), CancellationToken.None);
    }

    /// <summary>Stops taking new runs; what runs goes on.</summary>
    public void StopTaking() => _stopTaking.Cancel();

    /// <summary>
    /// Stops taking runs and waits for those in flight until <paramref name="cancellationToken"/> (the host's
    /// shutdown timeout); then gives back the rest: each is cancelled, its report deleted and its message NAKed.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        StopTaking();
        await _loop;
        _doorbell?.Dispose();
        var drained = Task.WhenAll(_inFlight.Keys);
        await drained.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (drained.IsCompleted)
        {
            LogDrained(logger);
            return;
        }

        LogGivingBack(logger, _inFlight.Count);
        await _giveBack.CancelAsync();
        await Task.WhenAll(_inFlight.Keys).WaitAsync(GiveBackTimeout, time, CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (!_inFlight.IsEmpty)
        {
            LogRunsLeftBehind(logger, _inFlight.Count);
        }
    }

    public void Dispose()
    {
        // Also ends the loop when the host is disposed after a start that failed half-way.
        _stopTaking.Cancel();
        _stopTaking.Dispose();
        _doorbell?.Dispose();
        _giveBack.Dispose();
        _slots.Dispose();
    }

    private async Task TakeRunsAsync(CancellationToken stop)
    {
        var doorbell = _doorbell!;
        var failures = 0;

        // What the next round asks: every consumer, or only those marked in rang: those whose bell rang (again if they
        // had nothing), and after a round that took runs, those that may have more (see TakeRoundAsync).
        var everyConsumer = true;
        var rang = new bool[_consumerCount];
        var mayHaveMore = new bool[_consumerCount];
        var rechecks = 0;
        var lastFullRound = time.GetTimestamp();
        while (!stop.IsCancellationRequested)
        {
            try
            {
                if (_consumers.Count == 0)
                {
                    _consumers = await CreateConsumersAsync(stop);
                }

                // Wait for a free slot without holding it: the round takes as many as are free then.
                await _slots.WaitAsync(stop);
                _slots.Release();
                if (everyConsumer)
                {
                    lastFullRound = time.GetTimestamp();
                }

                var taken = await TakeRoundAsync(everyConsumer ? null : rang, mayHaveMore, stop);
                if (failures > 0)
                {
                    LogFetchRestored(logger);
                    failures = 0;
                }

                if (taken > 0)
                {
                    // The next round asks those that may have more and those whose bell rang meanwhile, not every
                    // consumer: in a burst on one band, that saves a fetch of each other band per round. What a consumer
                    // that had nothing gains without a ring (a run that comes back, or one its ring ran ahead of, see
                    // LateRunRechecks) is found by a round of every consumer once a poll interval, busy or not.
                    Array.Copy(mayHaveMore, rang, mayHaveMore.Length);
                    doorbell.TakeRings(rang);
                    everyConsumer = time.GetElapsedTime(lastFullRound) >= _options.IdlePollInterval;
                    rechecks = 0;
                }
                else if (everyConsumer || rechecks == LateRunRechecks.Length)
                {
                    // Idle until a run is published for us; the poll finds runs that come back, which ring no bell.
                    Array.Clear(rang);
                    everyConsumer = !await doorbell.WaitAsync(rang, _options.IdlePollInterval, stop);
                    rechecks = 0;
                }
                else
                {
                    // The bell rang but its consumers had nothing: ask them again shortly (see LateRunRechecks), with
                    // any that ring meanwhile; a new ring starts the rechecks over.
                    var ringing = await doorbell.WaitAsync(rang, LateRunRechecks[rechecks], stop);
                    rechecks = ringing ? 0 : rechecks + 1;
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                if (failures++ == 0)
                {
                    LogFetchFailed(logger, ex.Message);
                }

                // Consumers may have been deleted with the stream; set everything up again once NATS answers.
                _consumers = [];
                everyConsumer = true;
                var backoff = TimeSpan.FromMilliseconds(Math.Min(MaxFailureBackoff.TotalMilliseconds, 250 * Math.Pow(2, Math.Min(failures, 10))));
                await Task.Delay(backoff, time, stop).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>
    /// One pass over the consumers (or those marked in <paramref name="only"/>), highest band first, taking no more
    /// than the free slots; queues of one band take turns being asked first, so a busy queue does not starve another.
    /// <paramref name="mayHaveMore"/> marks the consumers that gave runs and those the round was to ask but did not reach
    /// because the slots ran out.
    /// </summary>
    private async Task<int> TakeRoundAsync(bool[]? only, bool[] mayHaveMore, CancellationToken stop)
    {
        for (var consumer = 0; consumer < mayHaveMore.Length; consumer++)
        {
            mayHaveMore[consumer] = only is null || only[consumer];
        }

        var queues = _options.QueueList.Count;
        var first = _firstQueue = (_firstQueue + 1) % queues;
        var taken = 0;
        for (var band = DjagNames.PriorityBands - 1; band >= 0; band--)
        {
            for (var i = 0; i < queues; i++)
            {
                var consumer = (band * queues) + ((first + i) % queues);
                if (only is not null && !only[consumer])
                {
                    continue;
                }

                var free = _slots.CurrentCount;
                if (free == 0)
                {
                    return taken;
                }

                var took = await TakeAsync(_consumers[consumer], free, stop);
                mayHaveMore[consumer] = took > 0;
                taken += took;
            }
        }

        return taken;
    }

    private async Task<int> TakeAsync(INatsJSConsumer consumer, int free, CancellationToken stop)
    {
        using var timeout = new CancellationTokenSource(FetchTimeout, time);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, stop);
        var taken = 0;
        try
        {
            await foreach (var message in consumer.FetchNoWaitAsync(new NatsJSFetchOpts { MaxMsgs = free }, DjagSerializers.RunMessage, cancel.Token))
            {
                // Only this loop takes slots, and it never asks for more than are free.
                _slots.Wait(0, CancellationToken.None);
                Track(ExecuteAsync(message));
                taken++;
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !stop.IsCancellationRequested)
        {
            throw new TimeoutException($"NATS did not answer a fetch from {consumer.Info.Name} within {FetchTimeout.TotalSeconds} s");
        }

        return taken;
    }

    private async Task ExecuteAsync(INatsJSMsg<RunMessage> message)
    {
        try
        {
            await executor.ExecuteAsync(message, _giveBack.Token);
        }
        finally
        {
            _slots.Release();
        }
    }

    private void Track(Task execution)
    {
        _inFlight.TryAdd(execution, 0);
        _ = execution.ContinueWith(done => _inFlight.TryRemove(done, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private string QueueOf(int consumer) => _options.QueueList[consumer % _options.QueueList.Count];

    private int BandOf(int consumer) => consumer / _options.QueueList.Count;

    /// <summary>One consumer per queue and band, indexed [band * queues + queue].</summary>
    private async Task<IReadOnlyList<INatsJSConsumer>> CreateConsumersAsync(CancellationToken cancellationToken)
    {
        await nats.EnsureStreamAndBucketsAsync(cancellationToken);
        var consumers = new List<INatsJSConsumer>();
        for (var band = 0; band < DjagNames.PriorityBands; band++)
        {
            foreach (var queue in _options.QueueList)
            {
                consumers.Add(await nats.JetStream.CreateOrUpdateConsumerAsync(
                    DjagNames.RunsStream, DjagNatsSetup.RunsConsumerConfig(queue, band, _options.AckWait), cancellationToken));
            }
        }

        return consumers;
    }
}
