using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;

namespace Djag.TestKit;

/// <summary>
/// Three nats-servers on loopback forming one JetStream cluster, each with its own store dir, server name
/// (<c>n0</c>, <c>n1</c>, <c>n2</c>), client, cluster and monitoring port, and routes to all three. A node can be
/// killed and started again on the same ports and store, so it rejoins; the dirs are deleted on dispose.
/// </summary>
public sealed class NatsCluster : IAsyncDisposable
{
    /// <summary>How many nodes: enough for 3 replicas, and a quorum that survives one of them.</summary>
    public const int Size = 3;

    private const string ClusterName = "djag";
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(90);

    private readonly NatsNode[] _nodes;
    private readonly int[] _monitorPorts;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };

    private NatsCluster(NatsNode[] nodes, int[] monitorPorts)
    {
        _nodes = nodes;
        _monitorPorts = monitorPorts;
        Url = string.Join(',', nodes.Select(n => $"nats://127.0.0.1:{n.Port}"));
    }

    /// <summary>nats://127.0.0.1:P0,nats://127.0.0.1:P1,nats://127.0.0.1:P2: a client connects to any and fails over to the others.</summary>
    public string Url { get; }

    /// <summary>The <c>server_name</c> of a node, as JetStream names a stream's leader and replicas.</summary>
    public static string ServerName(int node) => $"n{node.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The node that has <paramref name="serverName"/>.</summary>
    public static int NodeNamed(string serverName) =>
        Enumerable.Range(0, Size).Single(node => ServerName(node) == serverName);

    /// <summary>Starts all three and waits until each is healthy: routed, in contact with a JetStream meta leader and current with it.</summary>
    public static async Task<NatsCluster> StartAsync(CancellationToken cancellationToken = default)
    {
        var ports = DistinctFreePorts(3 * Size);
        var clientPorts = ports[..Size];
        var routePorts = ports[Size..(2 * Size)];
        var monitorPorts = ports[(2 * Size)..];
        var nodes = new List<NatsNode>();
        try
        {
            for (var i = 0; i < Size; i++)
            {
                var node = await NatsNode.CreateAsync(clientPorts[i], n => ["-c", ConfigFile(n)]);
                nodes.Add(node);
                await File.WriteAllTextAsync(ConfigFile(node), Config(i, node, clientPorts[i], routePorts, monitorPorts[i]), cancellationToken);
            }
        }
        catch
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }

            throw;
        }

        var cluster = new NatsCluster([.. nodes], monitorPorts);
        try
        {
            await Task.WhenAll(nodes.Select(n => n.StartAsync(cancellationToken)));
            await cluster.WaitUntilAsync(Enumerable.Range(0, Size), cluster.HealthAsync, cancellationToken);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>SIGKILLs the node, as a crashed machine, and waits for it to exit.</summary>
    public Task KillAsync(int node) => _nodes[node].KillAsync();

    /// <summary>
    /// Starts a killed node again on its ports and store and waits until it is in contact with the JetStream meta
    /// leader: it has rejoined. Its replicas of streams and consumers catch up from then on.
    /// </summary>
    /// <remarks>
    /// Not <c>/healthz</c> here: on nats-server 2.9.10 a restarted node's replica of an idle consumer (a priority
    /// band no run was published to) stayed "not current" there for minutes; nats-server 2.9.17 changed how
    /// <c>/healthz</c> treats consumers (nats-io/nats-server#4172).
    /// </remarks>
    public async Task StartAsync(int node, CancellationToken cancellationToken = default)
    {
        await _nodes[node].StartAsync(cancellationToken);
        await WaitUntilAsync([node], MetaLeaderAsync, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
    }

    private static string ConfigFile(NatsNode node) => Path.Combine(node.Root, "nats-server.conf");

    private static string Config(int index, NatsNode node, int clientPort, int[] routePorts, int monitorPort) =>
        string.Create(CultureInfo.InvariantCulture, $$"""
            server_name: {{ServerName(index)}}
            listen: 127.0.0.1:{{clientPort}}
            http: 127.0.0.1:{{monitorPort}}
            jetstream {
              store_dir: "{{node.StoreDirectory}}"
            }
            cluster {
              name: {{ClusterName}}
              listen: 127.0.0.1:{{routePorts[index]}}
              routes: [{{string.Join(", ", routePorts.Select(p => $"nats-route://127.0.0.1:{p}"))}}]
            }
            """);

    /// <summary>Free loopback ports, none twice (each was free a moment ago; the servers bind them right after).</summary>
    private static int[] DistinctFreePorts(int count)
    {
        var ports = new HashSet<int>();
        while (ports.Count < count)
        {
            ports.Add(ProcessRunner.FreeLoopbackPort());
        }

        return [.. ports];
    }

    /// <summary>Polls <paramref name="check"/> on each node until it holds; fails with the last answer and every node's log.</summary>
    private async Task WaitUntilAsync(IEnumerable<int> nodes, Func<int, CancellationToken, Task<(bool Holds, string Answer)>> check,
        CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        foreach (var node in nodes)
        {
            while (true)
            {
                var (holds, answer) = await check(node, cancellationToken);
                if (holds)
                {
                    break;
                }

                if (!_nodes[node].IsRunning || stopwatch.Elapsed > ReadyTimeout)
                {
                    var logs = string.Join("\n", _nodes.Select((n, i) => $"--- {ServerName(i)}: {n.Describe()}"));
                    throw new InvalidOperationException(
                        $"NATS cluster node {ServerName(node)} was not ready within {ReadyTimeout.TotalSeconds:0} s (last answer: {answer})\n{logs}");
                }

                await Task.Delay(100, cancellationToken);
            }
        }
    }

    /// <summary><c>/healthz</c> answers 200 once the node's JetStream is current with the meta leader and with the node's streams and consumers.</summary>
    private async Task<(bool Holds, string Answer)> HealthAsync(int node, CancellationToken cancellationToken)
    {
        var (status, body) = await GetAsync(node, "/healthz", cancellationToken);
        return (status == HttpStatusCode.OK, body);
    }

    /// <summary><c>/jsz</c> names the meta leader once the node has contact with it.</summary>
    private async Task<(bool Holds, string Answer)> MetaLeaderAsync(int node, CancellationToken cancellationToken)
    {
        var (status, body) = await GetAsync(node, "/jsz", cancellationToken);
        if (status != HttpStatusCode.OK)
        {
            return (false, body);
        }

        using var jsz = JsonDocument.Parse(body);
        var leader = jsz.RootElement.TryGetProperty("meta_cluster", out var meta) && meta.TryGetProperty("leader", out var name) ? name.GetString() : null;
        return (!string.IsNullOrEmpty(leader), $"meta leader '{leader}'");
    }

    private async Task<(HttpStatusCode? Status, string Body)> GetAsync(int node, string path, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _http.GetAsync(new Uri($"http://127.0.0.1:{_monitorPorts[node]}{path}"), cancellationToken);
            return (response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
        }
        catch (HttpRequestException e)
        {
            return (null, e.Message);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, e.Message);
        }
    }
}
