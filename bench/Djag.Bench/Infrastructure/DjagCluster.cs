using System.Diagnostics;
using Djag.Persistence;
using Djag.Persistence.Schedules;
using Djag.TestKit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Djag.Bench.Infrastructure;

/// <summary>One run's row in <c>djag.runs</c> with its task's name; every latency figure is computed from these.</summary>
internal sealed record RunRow(string Task, DateTimeOffset Cron, int Attempt, string State, string? Outcome,
    DateTimeOffset? DispatchedAt, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt);

/// <summary>
/// A set of tasks whose cron fired on one second, and their runs once all finished. <see cref="BusyToLastDispatch"/> is the
/// share of all cores' time that was busy from the cron second to the last dispatch (<see cref="BusySampler"/>).
/// </summary>
internal sealed record FiredSet(string Prefix, DateTimeOffset At, IReadOnlyList<RunRow> Runs, TimeSpan Setup, double BusyToLastDispatch);

/// <summary>
/// Djag on loopback as it is deployed: a database of its own migrated by <c>djag-beat migrate</c>, a nats-server of its
/// own (the stream and bucket names are fixed), beats and workers as processes from the build output. Schedules go in
/// through <see cref="ScheduleService"/>, the product's one write path.
/// </summary>
internal sealed class DjagCluster : IAsyncDisposable
{
    public const string BeatAssembly = "djag-beat";
    public const string WorkerAssembly = "djag-worker";

    private readonly ILogger _log;
    private readonly List<ServiceProcess> _beats = [];
    private readonly List<ServiceProcess> _workers = [];

    /// <summary>Seconds per task from write to trigger in the store, as last observed; sets how far ahead a set is scheduled.</summary>
    private double _setupPerTask = 0.02;

    private DjagCluster(string name, string connectionString, NatsServer nats, ILogger log)
    {
        Name = name;
        ConnectionString = connectionString;
        Nats = nats;
        _log = log;
    }

    public string Name { get; }

    public string ConnectionString { get; }

    public NatsServer Nats { get; }

    public IReadOnlyList<ServiceProcess> Beats => _beats;

    public IReadOnlyList<ServiceProcess> Workers => _workers;

    public static async Task<DjagCluster> StartAsync(Servers servers, string name, ILogger log, CancellationToken ct)
    {
        var connectionString = await servers.CreateDatabaseAsync(name, ct);
        var nats = await NatsServer.StartAsync(ct);
        var cluster = new DjagCluster(name, connectionString, nats, log);
        try
        {
            await MigrateAsync(connectionString, ct);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Djag's schema and the Quartz tables, by the product's own <c>djag-beat migrate</c>.</summary>
    public static async Task MigrateAsync(string connectionString, CancellationToken ct)
    {
        await using var migrate = ServiceProcess.Start("djag-beat migrate", BeatAssembly, new Dictionary<string, string> { ["DJAG_DB"] = connectionString }, "migrate");
        if (await migrate.WaitForExitAsync(TimeSpan.FromMinutes(2), ct) != 0)
        {
            throw new InvalidOperationException($"djag-beat migrate failed:\n{migrate.OutputTail()}");
        }
    }

    private Dictionary<string, string> Environment(IReadOnlyDictionary<string, string>? extra)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["DJAG_DB"] = ConnectionString,
            ["DJAG_NATS_URL"] = Nats.Url,

            // Per-run Information lines would cost the services time the figures should not include.
            ["DJAG_LOGGING__LOG_LEVEL__DEFAULT"] = "Warning",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        return environment;
    }

    /// <summary>Starts a beat and waits until it has synchronized its triggers and says it started.</summary>
    public async Task<ServiceProcess> StartBeatAsync(string instanceId, CancellationToken ct, IReadOnlyDictionary<string, string>? extra = null)
    {
        var environment = Environment(extra);
        environment["DJAG_TIMING__INSTANCE_ID"] = instanceId;
        var beat = ServiceProcess.Start(instanceId, BeatAssembly, environment);
        _beats.Add(beat);
        await beat.WaitForOutputAsync("Application started", TimeSpan.FromMinutes(10), ct);
        return beat;
    }

    public async Task StartWorkersAsync(int count, CancellationToken ct)
    {
        var started = Enumerable.Range(_workers.Count + 1, count).Select(i =>
        {
            var environment = Environment(null);
            environment["DJAG_WORKER_ID"] = $"{Name}-w{i}";
            var worker = ServiceProcess.Start($"worker {i}", WorkerAssembly, environment);
            _workers.Add(worker);
            return worker;
        }).ToList();
        await Task.WhenAll(started.Select(w => w.WaitForOutputAsync("Application started", TimeSpan.FromMinutes(2), ct)));
    }

    public DjagDbContext Context()
    {
        var options = new DbContextOptionsBuilder<DjagDbContext>();
        options.UseDjagPostgres(ConnectionString);
        return new DjagDbContext(options.Options);
    }

    /// <summary>Applies a change through the write path every front end uses, as <c>djag apply</c> does.</summary>
    public async Task<ScheduleChangeResult> ApplyAsync(ScheduleChange change, CancellationToken ct)
    {
        await using var db = Context();
        return await new ScheduleService(db, TimeProvider.System).ApplyAsync(change, ct);
    }

    public async Task<long> CountAsync(string sql, CancellationToken ct, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return Convert.ToInt64(await command.ExecuteScalarAsync(ct) ?? 0L, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Triggers of tasks named <paramref name="prefix"/>* whose next fire is <paramref name="at"/> or later (Quartz keeps .NET ticks).</summary>
    public Task<long> TriggersAtAsync(string prefix, DateTimeOffset at, CancellationToken ct) =>
        CountAsync(
            "SELECT count(*) FROM qrtz_triggers WHERE sched_name = 'djag-beat' AND trigger_group = 'djag' AND starts_with(trigger_name, @p) AND next_fire_time >= @t",
            ct, ("p", prefix), ("t", at.UtcTicks));

    public Task<long> DispatchedAsync(string prefix, CancellationToken ct) =>
        CountAsync(
            "SELECT count(*) FROM djag.runs r JOIN djag.periodic_tasks t ON t.id = r.task_id WHERE starts_with(t.name, @p) AND r.dispatched_at IS NOT NULL",
            ct, ("p", prefix));

    public Task<long> FinishedAsync(string prefix, CancellationToken ct) =>
        CountAsync(
            "SELECT count(*) FROM djag.runs r JOIN djag.periodic_tasks t ON t.id = r.task_id WHERE starts_with(t.name, @p) AND r.state = 'finished'",
            ct, ("p", prefix));

    public async Task<List<RunRow>> RunsAsync(string prefix, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(
            """
            SELECT t.name, r.cron, r.attempt, r.state, r.outcome, r.dispatched_at, r.started_at, r.finished_at
            FROM djag.runs r JOIN djag.periodic_tasks t ON t.id = r.task_id
            WHERE starts_with(t.name, @p) ORDER BY r.id
            """, connection);
        command.Parameters.AddWithValue("p", prefix);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var rows = new List<RunRow>();
        while (await reader.ReadAsync(ct))
        {
            rows.Add(new RunRow(reader.GetString(0), At(reader, 1)!.Value, reader.GetInt32(2), reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), At(reader, 5), At(reader, 6), At(reader, 7)));
        }

        return rows;

        static DateTimeOffset? At(NpgsqlDataReader r, int i) =>
            r.IsDBNull(i) ? null : new DateTimeOffset(DateTime.SpecifyKind(r.GetDateTime(i), DateTimeKind.Utc));
    }

    /// <summary>
    /// Applies the tasks <paramref name="build"/> makes, all on a daily cron at one second chosen far enough ahead that
    /// the beat has every trigger in place before it (else it tries once more, further ahead, under a new prefix), refreshes
    /// the planner's statistics (<see cref="Servers.AnalyzeAsync"/>), then waits until every run finished.
    /// <paramref name="quietFor"/> is how long after the cron second the set's first run may take (tasks that fire first
    /// and wait for later ones); the set's time limits count from then. With
    /// <paramref name="workersPaused"/> the workers are stopped (SIGSTOP) from before the cron second until every run of
    /// the set is dispatched, so the beat's fire path runs without the runs' execution and reports beside it.
    /// </summary>
    public async Task<FiredSet> RunTogetherAsync(string prefix, Func<string, DateTimeOffset, ScheduleChange> build, CancellationToken ct,
        double minimumAhead = 8, TimeSpan quietFor = default, bool workersPaused = false)
    {
        for (var attempt = 1; attempt <= 2; attempt++)
        {
            var p = attempt == 1 ? prefix : $"{prefix.TrimEnd('-')}r{attempt}-";
            var count = build(p, TimeProvider.System.GetUtcNow()).Tasks.Count;
            var ahead = TimeSpan.FromSeconds(minimumAhead + (attempt * 1.3 * count * _setupPerTask));
            var at = Schedules.WholeSecondAfter(ahead);
            var change = build(p, at);
            var setup = Stopwatch.StartNew();
            await ApplyAsync(change, ct);
            var inPlace = 0L;
            while (TimeProvider.System.GetUtcNow() < at - TimeSpan.FromMilliseconds(300))
            {
                if ((inPlace = await TriggersAtAsync(p, at, ct)) == count)
                {
                    break;
                }

                await Task.Delay(100, ct);
            }

            if (inPlace < count)
            {
                // How long the beat really takes to put them all in place says how far ahead the next attempt must be;
                // the late set's runs finish first, out of the way.
                Log.SetupTooLate(_log, p, count, ahead.TotalSeconds);
                while (await CountAsync("SELECT count(*) FROM qrtz_triggers WHERE sched_name = 'djag-beat' AND trigger_group = 'djag' AND starts_with(trigger_name, @p)", ct, ("p", p)) < count)
                {
                    await Task.Delay(100, ct);
                }

                _setupPerTask = Math.Max(_setupPerTask, setup.Elapsed.TotalSeconds / count);
                await WaitForRunsAsync(p, count, at + quietFor, ct);
                continue;
            }

            // Less a few seconds that do not grow with the set (the write's commit, the beat's wake-up), so a small set
            // does not make a large one wait minutes for nothing.
            _setupPerTask = Math.Max(0.001, (setup.Elapsed.TotalSeconds - 3) / count);
            await Servers.AnalyzeAsync(ConnectionString, ct);
            Log.SetReady(_log, p, count, setup.Elapsed.TotalSeconds, (at - TimeProvider.System.GetUtcNow()).TotalSeconds);
            await using var busy = new BusySampler(at);
            if (workersPaused)
            {
                await DispatchWithWorkersPausedAsync(p, count, at, ct);
            }

            await WaitForRunsAsync(p, count, at + quietFor, ct);
            var runs = await RunsAsync(p, ct);
            return new FiredSet(p, at, runs, setup.Elapsed, busy.ShareUntil(runs.Max(r => r.DispatchedAt!.Value)));
        }

        throw new InvalidOperationException($"the beat could not put {prefix}* in place in time twice; see the log");
    }

    /// <summary>
    /// A chain of <see cref="WarmUpChain"/> run twice and not reported, so the first measured set does not pay for the
    /// services' JIT and connection pools; a cold beat is slow to put even 20 triggers in place, hence the long lead.
    /// </summary>
    public async Task WarmUpAsync(CancellationToken ct)
    {
        for (var round = 0; round < 2; round++)
        {
            await RunTogetherAsync($"warm{round}-", (prefix, at) => new ScheduleChange
            {
                Tasks = [.. Enumerable.Range(0, WarmUpChain).Select(i => Schedules.Echo(Schedules.Name(prefix, i), Schedules.DailyAt(at)))],
                Dependencies = [.. Enumerable.Range(1, WarmUpChain - 1).Select(i => new DependencyEdit(Schedules.Name(prefix, i), Schedules.Name(prefix, i - 1)))],
            }, ct, minimumAhead: round == 0 ? 20 : 8);
        }
    }

    /// <summary>
    /// Long enough, and run twice, that the release path's methods are called past the 30 calls after which the runtime
    /// compiles a method again, optimized, on a background thread, and that this is over before the measured chains. With
    /// one chain of 10, and with one of 50, stretches of 5–10 hops took 15–30 ms each rather than 3 in the first measured
    /// chain; with the JIT's tiers off (DOTNET_TieredCompilation=0) they did not occur.
    /// </summary>
    private const int WarmUpChain = 50;

    /// <summary>Stops the workers until the beat has dispatched all <paramref name="count"/> runs of the set.</summary>
    /// <remarks>
    /// The pause starts a second before the cron second and is over long before <c>Beat:RunLease</c> (30 s), after which
    /// the beat would publish the runs no worker took again.
    /// </remarks>
    private async Task DispatchWithWorkersPausedAsync(string prefix, int count, DateTimeOffset at, CancellationToken ct)
    {
        await Schedules.DelayUntilAsync(at - TimeSpan.FromSeconds(1), ct);
        foreach (var worker in _workers)
        {
            worker.Freeze();
        }

        try
        {
            var timeout = at + Schedules.TimeLimit(count);
            await Schedules.DelayUntilAsync(at, ct);
            while (await DispatchedAsync(prefix, ct) < count)
            {
                if (TimeProvider.System.GetUtcNow() > timeout)
                {
                    throw new TimeoutException($"{prefix}*: the beat did not dispatch all {count} runs with the workers paused");
                }

                await Task.Delay(PollEvery(count), ct);
            }
        }
        finally
        {
            foreach (var worker in _workers)
            {
                worker.Thaw();
            }
        }
    }

    /// <summary>Waits until <paramref name="count"/> runs of the set finished; a set that stalls fails with what the ledger holds.</summary>
    /// <remarks>
    /// The figures come from the runs' own timestamps, so this only decides when the set is over. It does not ask before
    /// <paramref name="at"/> and asks four times a second after (once a second for 10,000 runs), leaving PostgreSQL to what
    /// is measured: its count over the runs took 5 ms a time late in the throughput scenario, and 24 ms in the burst of 10,000.
    /// </remarks>
    public async Task WaitForRunsAsync(string prefix, int count, DateTimeOffset at, CancellationToken ct)
    {
        var timeout = Schedules.TimeLimit(count);
        await Schedules.DelayUntilAsync(at, ct);

        var last = -1L;
        var stalled = Stopwatch.StartNew();
        while (true)
        {
            var finished = await FinishedAsync(prefix, ct);
            if (finished >= count)
            {
                return;
            }

            if (finished != last)
            {
                last = finished;
                stalled.Restart();
            }

            if (stalled.Elapsed > TimeSpan.FromSeconds(30) || TimeProvider.System.GetUtcNow() > at + timeout)
            {
                var states = (await RunsAsync(prefix, ct)).GroupBy(r => r.State).Select(g => $"{g.Key}: {g.Count()}");
                throw new TimeoutException(
                    $"{prefix}*: {finished} of {count} runs finished ({string.Join(", ", states)}); beat output:\n{string.Join('\n', _beats.Select(b => b.OutputTail()))}");
            }

            await Task.Delay(PollEvery(count), ct);
        }
    }

    /// <summary>The Quartz cluster's view, for a failure message: beats checked in, triggers and their states, fires in progress.</summary>
    public async Task<string> DescribeTimingAsync(CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(ct);
        var text = new System.Text.StringBuilder();
        foreach (var sql in (string[])[
                     "SELECT instance_name, to_timestamp((last_checkin_time - 621355968000000000) / 1e7)::text, checkin_interval::text FROM qrtz_scheduler_state",
                     "SELECT trigger_name, trigger_state, to_timestamp((next_fire_time - 621355968000000000) / 1e7)::text FROM qrtz_triggers WHERE trigger_group = 'djag' ORDER BY trigger_name LIMIT 20",
                     "SELECT trigger_name, instance_name, state FROM qrtz_fired_triggers ORDER BY trigger_name LIMIT 20",
                 ])
        {
            text.AppendLine(sql);
            await using var command = new NpgsqlCommand(sql, connection);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                text.AppendLine("  " + string.Join(" | ", Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "null" : reader.GetValue(i).ToString())));
            }
        }

        foreach (var beat in _beats.Where(b => !b.HasExited))
        {
            text.AppendLine($"--- {beat.Name} output ---").AppendLine(beat.OutputTail());
        }

        return text.ToString();
    }

    /// <summary>CPU seconds so far of the beats, of the workers (processes still running) and of nats-server.</summary>
    public (double Beats, double Workers, double Nats) CpuSeconds() =>
        (_beats.Sum(b => b.Sample()?.CpuSeconds ?? 0), _workers.Sum(w => w.Sample()?.CpuSeconds ?? 0),
            Nats.Pid is { } nats ? ProcStats.Read(nats)?.CpuSeconds ?? 0 : 0);

    /// <summary>How often a set of <paramref name="count"/> runs is asked about: four times a second, once a second for 10,000.</summary>
    private static TimeSpan PollEvery(int count) => TimeSpan.FromMilliseconds(Math.Clamp(count / 10, 250, 1_000));

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_workers.Concat(_beats).Select(p => p.DisposeAsync().AsTask()));
        await Nats.DisposeAsync();
    }
}
