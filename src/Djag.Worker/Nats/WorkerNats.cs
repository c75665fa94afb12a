using Djag.Hosting.Nats;
using Djag.Worker.Hosting;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.KeyValueStore;

namespace Djag.Worker.Nats;

/// <summary>
/// The worker's one NATS connection and the JetStream objects on it. NATS.Net reconnects by itself
/// (forever); the loops that use it retry what fails meanwhile, and this logs the outage once.
/// </summary>
internal sealed partial class WorkerNats : IAsyncDisposable
{
    private readonly ILogger<WorkerNats> _logger;
    private readonly string _url;
    private readonly int _replicas;
    private DjagBuckets? _buckets;
    private int _disconnected;

    public WorkerNats(IOptions<DjagWorkerOptions> options, IOptions<DjagNatsOptions> nats, ILoggerFactory loggerFactory, ILogger<WorkerNats> logger)
    {
        _logger = logger;
        _url = options.Value.NatsUrl;
        _replicas = nats.Value.Replicas;
        Connection = new NatsConnection(nats.Value.Apply(new NatsOpts
        {
            Url = _url,
            Name = $"djag-worker {options.Value.EffectiveWorkerId}",
            LoggerFactory = loggerFactory,
        }));
        JetStream = new NatsJSContext(Connection);
        KeyValue = new NatsKVContext(JetStream);
        Connection.ConnectionDisconnected += OnDisconnectedAsync;
        Connection.ConnectionOpened += OnOpenedAsync;
    }

    public NatsConnection Connection { get; }

    public INatsJSContext JetStream { get; }

    public INatsKVContext KeyValue { get; }

    public DjagBuckets Buckets => _buckets ?? throw new InvalidOperationException("NATS is not set up yet.");

    /// <summary>Connects and creates the stream and buckets if missing; an unreachable server fails the start.</summary>
    public async Task ConnectAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Connection.ConnectAsync();
        }
        catch (NatsException ex)
        {
            throw new InvalidOperationException($"cannot connect to NATS at {_url}: {ex.Message}", ex);
        }

        try
        {
            _buckets = await EnsureStreamAndBucketsAsync(cancellationToken);
        }
        catch (NatsException ex)
        {
            throw new InvalidOperationException($"cannot set up the Djag stream and buckets on NATS at {_url} (is JetStream enabled?): {ex.Message}", ex);
        }
    }

    /// <summary>Creates the stream and buckets if missing, with the configured replicas.</summary>
    public Task<DjagBuckets> EnsureStreamAndBucketsAsync(CancellationToken cancellationToken) =>
        DjagNatsSetup.EnsureStreamAndBucketsAsync(JetStream, KeyValue, _replicas, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        Connection.ConnectionDisconnected -= OnDisconnectedAsync;
        Connection.ConnectionOpened -= OnOpenedAsync;
        await Connection.DisposeAsync();
    }

    private ValueTask OnDisconnectedAsync(object? sender, NatsEventArgs args)
    {
        if (Interlocked.Exchange(ref _disconnected, 1) == 0 && Connection.ConnectionState != NatsConnectionState.Closed)
        {
            LogDisconnected(_logger, _url);
        }

        return ValueTask.CompletedTask;
    }

    private ValueTask OnOpenedAsync(object? sender, NatsEventArgs args)
    {
        if (Interlocked.Exchange(ref _disconnected, 0) == 1)
        {
            LogReconnected(_logger, _url);
        }

        return ValueTask.CompletedTask;
    }

    [LoggerMessage(EventId = WorkerEventIds.NatsDisconnected, Level = LogLevel.Warning, Message = "Lost the connection to NATS at {Url}; reconnecting")]
    private static partial void LogDisconnected(ILogger logger, string url);

    [LoggerMessage(EventId = WorkerEventIds.NatsReconnected, Level = LogLevel.Information, Message = "Reconnected to NATS at {Url}")]
    private static partial void LogReconnected(ILogger logger, string url);
}
