using Djag.Worker.Nats;
using Djag.Worker.Reports;
using Djag.Worker.Runs;
using Djag.Worker.Tasks;
using Microsoft.Extensions.Options;

namespace Djag.Worker.Hosting;

/// <summary>
/// The worker's life: connect and set up in <see cref="StartAsync"/> (so a broken start fails the unit),
/// stop taking runs on ApplicationStopping, drain in flight within the stop token, then give back the rest.
/// </summary>
internal sealed partial class WorkerService(
    WorkerNats nats,
    RunConsumer consumer,
    Heartbeat heartbeat,
    TaskRegistry registry,
    IHostApplicationLifetime lifetime,
    IOptions<DjagWorkerOptions> options,
    ILogger<WorkerService> logger) : IHostedService
{
    private CancellationTokenRegistration _onStopping;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await nats.ConnectAsync(cancellationToken);
        await consumer.StartAsync(cancellationToken);

        // A worker is in the heartbeat bucket only once it can take runs.
        await heartbeat.StartAsync(cancellationToken);
        _onStopping = lifetime.ApplicationStopping.Register(consumer.StopTaking);
        var settings = options.Value;
        LogStarted(logger, settings.EffectiveWorkerId, string.Join(",", settings.QueueList), settings.Concurrency, settings.NatsUrl, string.Join(", ", registry.Names));
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _onStopping.DisposeAsync();
        await consumer.StopAsync(cancellationToken);
        await heartbeat.StopAsync();
    }

    [LoggerMessage(EventId = WorkerEventIds.WorkerStarted, Level = LogLevel.Information,
        Message = "Worker {WorkerId} takes runs of queues {Queues}, {Concurrency} at a time, from {NatsUrl}; tasks: {Tasks}")]
    private static partial void LogStarted(ILogger logger, string workerId, string queues, int concurrency, string natsUrl, string tasks);
}
