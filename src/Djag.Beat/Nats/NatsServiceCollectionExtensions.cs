using Djag.Beat.Hosting;
using Djag.Hosting.Configuration;
using Djag.Hosting.Nats;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.KeyValueStore;
using NATS.Net;

namespace Djag.Beat.Nats;

internal static class NatsServiceCollectionExtensions
{
    /// <summary>One NATS connection with its JetStream and key-value contexts, connected and set up at start.</summary>
    public static IServiceCollection AddDjagNats(this IServiceCollection services, string clientName)
    {
        services.AddSingleton(sp => new NatsConnection(sp.GetRequiredService<IOptions<DjagNatsOptions>>().Value.Apply(new NatsOpts
        {
            Url = sp.GetRequiredService<IOptions<ConnectionOptions>>().Value.NatsUrl,
            Name = clientName,
            LoggerFactory = sp.GetRequiredService<ILoggerFactory>(),
        })));
        services.AddSingleton<INatsJSContext>(sp => sp.GetRequiredService<NatsConnection>().CreateJetStreamContext());
        services.AddSingleton<INatsKVContext>(sp => sp.GetRequiredService<NatsConnection>().CreateKeyValueStoreContext());
        services.AddHostedService<NatsCheck>();
        return services;
    }
}

/// <summary>Fails the start when NATS is unreachable, and creates the stream and buckets if they are missing.</summary>
internal sealed partial class NatsCheck(NatsConnection nats, INatsJSContext js, INatsKVContext kv, IOptions<DjagNatsOptions> options, ILogger<NatsCheck> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await nats.ConnectAsync();
            await DjagNatsSetup.EnsureStreamAndBucketsAsync(js, kv, options.Value.Replicas, cancellationToken);
        }
        catch (NatsException ex)
        {
            throw new InvalidOperationException($"cannot reach NATS at {nats.Opts.Url}: {ex.Message}", ex);
        }

        LogNatsReady(logger, nats.Opts.Url);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = BeatEventIds.NatsReady, Level = LogLevel.Information, Message = "NATS at {Url} is reachable; stream and buckets are ready")]
    private static partial void LogNatsReady(ILogger logger, string url);
}
