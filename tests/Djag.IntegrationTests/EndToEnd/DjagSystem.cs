using System.Globalization;
using Djag.Beat.Hosting;
using Djag.Beat.Timing;
using Djag.Hosting.Configuration;
using Djag.IntegrationTests.Infrastructure;
using Djag.IntegrationTests.Persistence;
using Djag.Persistence.Runs;
using Djag.Persistence.Schedules;
using Djag.TestKit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using NodaTime;

namespace Djag.IntegrationTests.EndToEnd;

/// <summary>One run's row with its task's name, as the tests read the ledger.</summary>
internal sealed record RunRow(string Task, Instant Cron, int Attempt, string State, string? Outcome, string? Worker,
    Instant? DispatchedAt, Instant? StartedAt, Instant? FinishedAt, string? Reason);

/// <summary>
/// The whole system on loopback: a migrated database with the Quartz tables, a nats-server of its own
/// (the stream and bucket names are fixed by the contract) or a 3-node JetStream cluster of its own, worker
/// processes, and beats in-process or as processes. Everything runs in real time; tests use seconds-level crons.
/// </summary>
internal sealed class DjagSystem : IAsyncDisposable
{
    private readonly List<DjagProcess> _processes = [];
    private readonly NatsServer? _nats;
    private IHost? _beat;

    private DjagSystem(TestDatabase database, NatsServer? nats, NatsCluster? cluster)
    {
        Database = database;
        _nats = nats;
        Cluster = cluster;
    }

    public TestDatabase Database { get; }

    /// <summary>The system's nats-server; a system started with <see cref="StartOnClusterAsync"/> has <see cref="Cluster"/> instead.</summary>
    public NatsServer Nats => _nats ?? throw new InvalidOperationException("this system runs on a NATS cluster; see Cluster");

    /// <summary>The system's NATS cluster if it was started with <see cref="StartOnClusterAsync"/>, else null.</summary>
    public NatsCluster? Cluster { get; }

    /// <summary>What the processes get as DJAG_NATS_URL: the server's URL, or the cluster's list of URLs.</summary>
    public string NatsUrl => Cluster?.Url ?? Nats.Url;

    /// <param name="servers">The assembly's servers.</param>
    /// <param name="prefix">Names the database.</param>
    /// <param name="postgres">A PostgreSQL server of the test's own, for a test that restarts it; else the assembly's.</param>
    public static async Task<DjagSystem> StartAsync(ServersFixture servers, string prefix, PostgresServer? postgres = null)
    {
        var database = await CreateDatabaseAsync(postgres ?? servers.Postgres, prefix);
        return new DjagSystem(database, await NatsServer.StartAsync(TestContext.Current.CancellationToken), null);
    }

    /// <summary>
    /// Like <see cref="StartAsync"/> on a 3-node JetStream cluster of its own: the processes get its URL list and
    /// create the stream and buckets with 3 replicas (DJAG_NATS__REPLICAS).
    /// </summary>
    public static async Task<DjagSystem> StartOnClusterAsync(ServersFixture servers, string prefix)
    {
        var database = await CreateDatabaseAsync(servers.Postgres, prefix);
        return new DjagSystem(database, null, await NatsCluster.StartAsync(TestContext.Current.CancellationToken));
    }

    private static async Task<TestDatabase> CreateDatabaseAsync(PostgresServer postgres, string prefix)
    {
        var database = await TestDatabase.CreateAsync(postgres, prefix);
        await TimingServiceCollectionExtensions.ProvisionSchemaAsync(database.ConnectionString, TestContext.Current.CancellationToken);
        return database;
    }

    /// <summary>Environment variables of processes started from now on, over the defaults below (the soak quiets the logs).</summary>
    public Dictionary<string, string> Settings { get; } = [];

    private Dictionary<string, string> Environment
    {
        get
        {
            var environment = DefaultEnvironment;
            foreach (var (name, value) in Settings)
            {
                environment[name] = value;
            }

            return environment;
        }
    }

    private Dictionary<string, string> DefaultEnvironment
    {
        get
        {
            var environment = new Dictionary<string, string>
            {
                ["DJAG_DB"] = Database.ConnectionString,
                ["DJAG_NATS_URL"] = NatsUrl,
                ["DJAG_BEAT__RUN_LEASE"] = "5",
                ["DJAG_TIMING__CHECKIN_INTERVAL"] = "00:00:01",
                ["DJAG_TIMING__CHECKIN_MISFIRE_THRESHOLD"] = "00:00:02",
                ["DJAG_TIMING__IDLE_WAIT_TIME"] = "00:00:01",
                ["DJAG_LOGGING__LOG_LEVEL__DEFAULT"] = "Warning",
                ["DJAG_LOGGING__LOG_LEVEL__DJAG"] = "Information",
            };
            if (Cluster is not null)
            {
                environment["DJAG_NATS__REPLICAS"] = NatsCluster.Size.ToString(CultureInfo.InvariantCulture);
            }

            return environment;
        }
    }

    public DjagProcess StartWorker(string queues = "default")
    {
        var worker = DjagProcess.StartOnTestRuntime("djag-worker", Environment, "--queues", queues);
        _processes.Add(worker);
        return worker;
    }

    /// <summary>
    /// Waits until a worker process says it takes runs (connected, consumers in place): a test that measures how
    /// quickly runs follow each other then measures the system, not a worker still booting on a loaded machine.
    /// </summary>
    public static async Task WaitUntilTakingRunsAsync(DjagProcess worker, TimeSpan timeout)
    {
        var deadline = TimeProvider.System.GetUtcNow() + timeout;
        while (!worker.Output.Contains("takes runs of queues", StringComparison.Ordinal))
        {
            Assert.False(worker.HasExited, $"the worker exited:\n{worker.Output}");
            Assert.True(TimeProvider.System.GetUtcNow() < deadline, $"the worker did not start within {timeout}:\n{worker.Output}");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    public DjagProcess StartBeatProcess()
    {
        var beat = DjagProcess.StartOnTestRuntime("djag-beat", Environment);
        _processes.Add(beat);
        return beat;
    }

    /// <summary>Starts a beat in this process (stop it with <see cref="StopBeatAsync"/>).</summary>
    public async Task StartBeatAsync()
    {
        _beat = BuildBeat();
        await _beat.StartAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>A beat host with the same settings a beat process gets from its environment, passed as command-line arguments.</summary>
    public IHost BuildBeat(params string[] overrides)
    {
        var args = Environment.Select(e => $"--{DjagEnvironmentVariables.SettingName(e.Key["DJAG_".Length..])}={e.Value}").Concat(overrides).ToArray();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.AddDjagBeat();
        return builder.Build();
    }

    public async Task StopBeatAsync()
    {
        if (_beat is { } beat)
        {
            _beat = null;
            await beat.StopAsync(CancellationToken.None);
            beat.Dispose();
        }
    }

    /// <summary>Applies a change through the write path with the real clock (the beat runs in real time).</summary>
    public async Task ApplyAsync(ScheduleChange change)
    {
        await using var context = Database.Context();
        await new ScheduleService(context, TimeProvider.System).ApplyAsync(change, TestContext.Current.CancellationToken);
    }

    public async Task<List<RunRow>> RunsAsync()
    {
        await using var context = Database.Context();
        var rows = await context.Runs.AsNoTracking()
            .Join(context.PeriodicTasks, r => r.TaskId, t => t.Id, (r, t) => new { Run = r, t.Name })
            .OrderBy(x => x.Run.Cron).ThenBy(x => x.Name)
            .ToListAsync(TestContext.Current.CancellationToken);
        return rows.Select(x => new RunRow(x.Name, x.Run.Cron, x.Run.Attempt, x.Run.State, x.Run.Outcome, x.Run.Worker,
            x.Run.DispatchedAt, x.Run.StartedAt, x.Run.FinishedAt, x.Run.Reason)).ToList();
    }

    /// <summary>Polls the ledger until <paramref name="done"/> holds; fails with what the ledger and the processes said.</summary>
    public async Task<List<RunRow>> WaitForRunsAsync(Func<List<RunRow>, bool> done, TimeSpan timeout, string what)
    {
        var deadline = TimeProvider.System.GetUtcNow() + timeout;
        while (true)
        {
            var runs = await RunsAsync();
            if (done(runs))
            {
                return runs;
            }

            if (TimeProvider.System.GetUtcNow() > deadline)
            {
                var ledger = string.Join('\n', runs.Select(r => $"{r.Task} {r.Cron} #{r.Attempt} {r.State} {r.Outcome} {r.Reason}"));
                var logs = string.Join('\n', _processes.Select(p => $"--- pid {p.Pid} ---\n{Tail(p.Output)}"));
                Assert.Fail($"timed out after {timeout} waiting until {what}\nledger:\n{ledger}\n{logs}");
            }

            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    public static RunRow Single(IEnumerable<RunRow> runs, string task, Instant cron) =>
        Assert.Single(runs, r => r.Task == task && r.Cron == cron && r.Attempt == 1);

    public async ValueTask DisposeAsync()
    {
        await StopBeatAsync();
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }

        if (_nats is not null)
        {
            await _nats.DisposeAsync();
        }

        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }
    }

    private static string Tail(string text) => text.Length > 20_000 ? text[^20_000..] : text;

    public static bool IsFinal(RunRow r) => r.State is RunStates.Finished or RunStates.Skipped or RunStates.Coalesced;
}
