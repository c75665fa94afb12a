using Djag.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Djag.IntegrationTests.Worker;

/// <summary>A worker host built in the test process with <c>AddDjagWorker</c>, for the fine-grained cases.</summary>
internal sealed class InProcessWorker : IAsyncDisposable
{
    private readonly IHost _host;
    private bool _stopped;

    private InProcessWorker(IHost host, string id)
    {
        _host = host;
        Id = id;
    }

    public string Id { get; }

    public IServiceProvider Services => _host.Services;

    /// <param name="natsUrl">the test's own server</param>
    /// <param name="tasks">registers the test's tasks</param>
    /// <param name="configure">changes options after configuration</param>
    /// <param name="shutdownTimeout">the host's drain time at stop</param>
    /// <param name="queues">the queues to take runs from</param>
    /// <param name="concurrency">runs at once</param>
    public static async Task<InProcessWorker> StartAsync(
        string natsUrl,
        Action<DjagWorkerBuilder>? tasks = null,
        Action<DjagWorkerOptions>? configure = null,
        TimeSpan? shutdownTimeout = null,
        string queues = "default",
        int concurrency = 4)
    {
        var host = Build(natsUrl, tasks, configure, shutdownTimeout, queues, concurrency, out var id);
        try
        {
            await host.StartAsync(TestContext.Current.CancellationToken);
        }
        catch
        {
            host.Dispose();
            throw;
        }

        return new InProcessWorker(host, id);
    }

    public static IHost Build(
        string natsUrl,
        Action<DjagWorkerBuilder>? tasks,
        Action<DjagWorkerOptions>? configure,
        TimeSpan? shutdownTimeout,
        string queues,
        int concurrency,
        out string id)
    {
        var workerId = $"inproc-{Guid.NewGuid():N}"[..20];
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.AddProvider(new TestOutputLoggerProvider());
        var worker = builder.AddDjagWorker(options =>
        {
            options.NatsUrl = natsUrl;
            options.Queues = queues;
            options.Concurrency = concurrency;
            options.WorkerId = workerId;
            configure?.Invoke(options);
        });
        tasks?.Invoke(worker);
        if (shutdownTimeout is { } timeout)
        {
            builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = timeout);
        }

        id = workerId;
        return builder.Build();
    }

    public async Task StopAsync()
    {
        if (!_stopped)
        {
            _stopped = true;
            await _host.StopAsync(CancellationToken.None);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _host.Dispose();
    }
}
