using System.Buffers;
using System.Threading.Channels;
using Djag.Worker.Hosting;
using NATS.Client.Core;

namespace Djag.Worker.Runs;

/// <summary>
/// Wakes an idle worker the moment a run is published. JetStream delivers every publish on a stream's subject
/// to plain core-NATS subscribers of that subject too, so the worker subscribes to the subject of each of its
/// consumers and learns which of them may have a run, without asking. Only that counts: bodies are not read,
/// and rings coalesce. A run that comes back (a NAK, an expired ack wait) rings no bell, so the worker still
/// polls now and then. NATS.Net subscribes again after a reconnect; then every bell rings, because runs may
/// have been published while the worker was away.
/// </summary>
internal sealed partial class Doorbell : IDisposable
{
    /// <summary>Per consumer: 1 when a run was published on its subject since <see cref="WaitAsync"/> last took it.</summary>
    private readonly int[] _rang;

    /// <summary>Holds one token when some bell rang: a ring while the waiter is busy is not lost, and many make one.</summary>
    private readonly Channel<bool> _ring = Channel.CreateBounded<bool>(new BoundedChannelOptions(1)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = true,
    });

    private readonly CancellationTokenSource _unsubscribe = new();
    private readonly NatsConnection _connection;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private int _refused;
    private int _disposed;

    private Doorbell(NatsConnection connection, int consumers, TimeProvider time, ILogger logger)
    {
        _connection = connection;
        _rang = new int[consumers];
        _time = time;
        _logger = logger;
    }

    /// <summary>Subscribes to <paramref name="subjects"/>, the filter subject of each consumer in the caller's order.</summary>
    public static async Task<Doorbell> SubscribeAsync(NatsConnection connection, IReadOnlyList<string> subjects, TimeProvider time, ILogger logger)
    {
        var bell = new Doorbell(connection, subjects.Count, time, logger);
        try
        {
            for (var consumer = 0; consumer < subjects.Count; consumer++)
            {
                // The token ends the subscription (Dispose), without waiting for the server.
                var subscription = await connection.SubscribeCoreAsync(subjects[consumer], serializer: IgnoredPayload.Instance, cancellationToken: bell._unsubscribe.Token);
                _ = bell.ListenAsync(subscription, consumer);
            }
        }
        catch
        {
            bell.Dispose();
            throw;
        }

        connection.ConnectionOpened += bell.OnReconnectedAsync;
        connection.ServerError += bell.OnServerErrorAsync;
        return bell;
    }

    /// <summary>
    /// Waits until a bell rings or <paramref name="timeout"/> passes, and marks in <paramref name="rang"/> the
    /// consumers whose bell rang since the last wait; one that rang meanwhile counts at once.
    /// </summary>
    /// <returns>whether any rang</returns>
    public async Task<bool> WaitAsync(bool[] rang, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (TakeRings(rang))
        {
            return true;
        }

        using var timer = new CancellationTokenSource(timeout, _time);
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(timer.Token, cancellationToken);
        try
        {
            // A token without a ring is one that a wait before took with its ring.
            do
            {
                await _ring.Reader.ReadAsync(wait.Token);
            }
            while (!TakeRings(rang));

            return true;
        }
        catch (OperationCanceledException) when (timer.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>Ends the subscriptions (without waiting for the server); once is enough.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _connection.ConnectionOpened -= OnReconnectedAsync;
        _connection.ServerError -= OnServerErrorAsync;
        _unsubscribe.Cancel();
        _unsubscribe.Dispose();
    }

    /// <summary>Marks in <paramref name="rang"/> the consumers whose bell rang since the last wait or take, without waiting.</summary>
    /// <returns>whether any rang</returns>
    public bool TakeRings(bool[] rang)
    {
        var any = false;
        for (var consumer = 0; consumer < _rang.Length; consumer++)
        {
            if (Interlocked.Exchange(ref _rang[consumer], 0) == 1)
            {
                rang[consumer] = true;
                any = true;
            }
        }

        return any;
    }

    private void Ring(int consumer)
    {
        Volatile.Write(ref _rang[consumer], 1);
        _ring.Writer.TryWrite(true);
    }

    private async Task ListenAsync(INatsSub<byte> subscription, int consumer)
    {
        try
        {
            // Ends when the subscription does (Dispose, or the connection's).
            while (await subscription.Msgs.WaitToReadAsync())
            {
                while (subscription.Msgs.TryRead(out _))
                {
                }

                Ring(consumer);
            }
        }
        catch (Exception ex)
        {
            LogBellBroken(_logger, subscription.Subject, ex.Message);
        }
    }

    private ValueTask OnReconnectedAsync(object? sender, NatsEventArgs args)
    {
        for (var consumer = 0; consumer < _rang.Length; consumer++)
        {
            Ring(consumer);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>The server refuses a subscription asynchronously, with an error on the connection: say once what it means.</summary>
    private ValueTask OnServerErrorAsync(object? sender, NatsServerErrorEventArgs args)
    {
        if (args.Kind == NatsServerErrorKind.PermissionsViolation
            && args.Error.Contains("Subscription to \"djag.runs.", StringComparison.Ordinal)
            && Interlocked.Exchange(ref _refused, 1) == 0)
        {
            LogSubscriptionRefused(_logger, args.Error);
        }

        return ValueTask.CompletedTask;
    }

    [LoggerMessage(EventId = WorkerEventIds.DoorbellRefused, Level = LogLevel.Warning,
        Message = "NATS refused the worker's subscription to the runs it may take ({Error}); allow its user to subscribe to djag.runs.> (deploy/nats/nats-server.conf), else it polls for runs once a second")]
    private static partial void LogSubscriptionRefused(ILogger logger, string error);

    [LoggerMessage(EventId = WorkerEventIds.DoorbellBroken, Level = LogLevel.Warning,
        Message = "Stopped listening for runs published on {Subject} ({Error}); the worker polls for them")]
    private static partial void LogBellBroken(ILogger logger, string subject, string error);

    /// <summary>Leaves the body unread: the bell only says that a run was published, not which.</summary>
    private sealed class IgnoredPayload : INatsDeserialize<byte>
    {
        public static readonly IgnoredPayload Instance = new();

        public byte Deserialize(in ReadOnlySequence<byte> buffer) => 0;
    }
}
