using System.Globalization;

namespace Djag.TestKit;

/// <summary>
/// A nats-server with JetStream on a free loopback port, its store in a temp dir that survives
/// <see cref="RestartAsync"/> and is deleted on dispose.
/// </summary>
public sealed class NatsServer : IAsyncDisposable
{
    private readonly NatsNode _node;

    private NatsServer(NatsNode node)
    {
        _node = node;
        Url = $"nats://127.0.0.1:{node.Port}";
    }

    /// <summary>nats://127.0.0.1:PORT</summary>
    public string Url { get; }

    public int Port => _node.Port;

    public string LogFile => _node.LogFile;

    /// <summary>The running server's process id, or null when it is stopped.</summary>
    public int? Pid => _node.Pid;

    public static async Task<NatsServer> StartAsync(CancellationToken cancellationToken = default)
    {
        var port = ProcessRunner.FreeLoopbackPort();
        var node = await NatsNode.CreateAsync(port, node =>
            ["-a", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "-js", "-sd", node.StoreDirectory]);
        var server = new NatsServer(node);
        try
        {
            await node.StartAsync(cancellationToken);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Stops the server gracefully (SIGTERM; SIGKILL if it lingers) and waits for it to exit.</summary>
    public Task StopAsync() => _node.StopAsync();

    /// <summary>Stops the server if it runs and starts it again on the same port and store dir, so JetStream state survives.</summary>
    public async Task RestartAsync(CancellationToken ct = default)
    {
        await _node.StopAsync();
        await _node.StartAsync(ct);
    }

    public ValueTask DisposeAsync() => _node.DisposeAsync();
}
