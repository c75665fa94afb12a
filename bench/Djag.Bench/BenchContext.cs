using System.Diagnostics;
using Djag.Bench.Infrastructure;
using Djag.Bench.Reporting;
using Microsoft.Extensions.Logging;

namespace Djag.Bench;

/// <summary>What every scenario shares: the options, the PostgreSQL cluster, the report and the log.</summary>
internal sealed class BenchContext(BenchOptions options, Servers servers, Report report, ILogger logger)
{
    public BenchOptions Options { get; } = options;

    public Servers Servers { get; } = servers;

    public Report Report { get; } = report;

    public ILogger Logger { get; } = logger;

    /// <summary>Starts a CPU window over the cluster's processes, PostgreSQL and the bench itself; dispose it to log where the CPU went.</summary>
    public CpuWindow Cpu(string label, DjagCluster? cluster = null) => new(this, label, cluster);

    /// <summary>Logs the statements that took most of the database's time since the last reset, then resets.</summary>
    public async Task ProfileAsync(string label, string connectionString, CancellationToken ct)
    {
        foreach (var s in await Servers.TopStatementsAsync(connectionString, 6, ct))
        {
            var query = string.Join(' ', s.Query.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
            Log.Statement(Logger, label, s.Calls, s.TotalMs, s.MeanMs, query[..Math.Min(160, query.Length)]);
        }

        await Servers.ResetStatementStatsAsync(ct);
    }

    internal sealed class CpuWindow : IDisposable
    {
        private readonly BenchContext _bench;
        private readonly string _label;
        private readonly DjagCluster? _cluster;
        private readonly Stopwatch _wall = Stopwatch.StartNew();
        private readonly (double Beats, double Workers, double Nats) _cluster0;
        private readonly double _postgres0;
        private readonly double _self0;

        public CpuWindow(BenchContext bench, string label, DjagCluster? cluster)
        {
            _bench = bench;
            _label = label;
            _cluster = cluster;
            _cluster0 = cluster?.CpuSeconds() ?? default;
            _postgres0 = bench.Servers.CpuSeconds();
            _self0 = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
        }

        public void Dispose()
        {
            var cluster = _cluster?.CpuSeconds() ?? default;
            Log.Cpu(_bench.Logger, _label, _wall.Elapsed.TotalSeconds, cluster.Beats - _cluster0.Beats, cluster.Workers - _cluster0.Workers,
                cluster.Nats - _cluster0.Nats, _bench.Servers.CpuSeconds() - _postgres0, Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds - _self0);
        }
    }
}
