using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Djag.IntegrationTests.EndToEnd;
using Djag.IntegrationTests.Infrastructure;
using Djag.IntegrationTests.Persistence;
using Djag.Persistence.Runs;
using Djag.Persistence.Schedules;
using Djag.Scheduling;
using Djag.TestKit;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using NodaTime;

namespace Djag.IntegrationTests.Reliability;

/// <summary>
/// The long soak (issue 9), run by <c>scripts/soak.sh [--minutes N]</c>: PostgreSQL, NATS, two beats and four
/// workers as processes run groups of five dependent tasks that all fire every second (fan-out, fan-in, a
/// chain), and every 30 s one fault from a rotation hits the system. At the end the tasks are paused, the
/// system must go quiet, the ledger must hold, no run may have been executed twice, and the resident memory
/// of the processes that lived through the whole soak must be flat.
/// </summary>
/// <remarks>
/// Not part of <c>scripts/test.sh</c>: that command leaves out the trait <see cref="Category"/> (a bare
/// <c>dotnet test</c> of this project does run it, for five minutes). Settings: <c>DJAG_SOAK_MINUTES</c>
/// (length of the faulted part, default 5), <c>DJAG_SOAK_GROUPS</c>
/// (default 10 groups = 50 tasks = at most 3,000 runs a minute), <c>DJAG_SOAK_FAULT_SECONDS</c> (default 30),
/// <c>DJAG_SOAK_DIR</c> (summary and the PIDs of the processes started, default artifacts/soak).
/// </remarks>
[Collection(FaultsCollection.Name)]
[Trait("Category", Category)]
public sealed partial class SoakTests(ServersFixture servers)
{
    public const string Category = "Soak";

    /// <summary>The worker's bucket entry expires 15 s after its last heartbeat; the lease check runs every ~2 s after that.</summary>
    private static readonly TimeSpan FreezeFor = TimeSpan.FromSeconds(22);

    private static readonly TimeSpan SampleEvery = TimeSpan.FromSeconds(10);

    /// <summary>"Memory is flat": the largest RSS of the last third is at most this much above the largest of the first third (after warm-up).</summary>
    private const double MaxGrowth = 0.25;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Soak_with_a_fault_every_30_seconds_keeps_the_ledger_and_flat_memory()
    {
        var options = SoakOptions.FromEnvironment();
        Directory.CreateDirectory(options.Directory);
        var report = new SoakReport(Path.Combine(options.Directory, "summary.txt"));
        report.Line($"soak: {options.Duration.TotalMinutes:0.#} min, {options.Groups} groups x 5 tasks every second, a fault every {options.FaultEvery.TotalSeconds:0} s");

        await using var postgres = await PostgresServer.StartAsync(Ct);
        await using var system = await DjagSystem.StartAsync(servers, "soak", postgres);
        system.Settings["DJAG_LOGGING__LOG_LEVEL__DJAG"] = "Warning";
        // The production check-in settings, not the tests' 1 s / 2 s: on a busy machine those fail out a live beat.
        system.Settings["DJAG_TIMING__CHECKIN_INTERVAL"] = "00:00:05";
        system.Settings["DJAG_TIMING__CHECKIN_MISFIRE_THRESHOLD"] = "00:00:05";
        // One line per run a worker starts: how the soak sees a run executed twice.
        system.Settings["DJAG_LOGGING__LOG_LEVEL__DJAG.WORKER.RUNS.RUNEXECUTOR"] = "Debug";
        await using var fleet = new Fleet(system, Path.Combine(options.Directory, "pids"));
        fleet.Start();

        await system.ApplyAsync(Schedule(options.Groups));
        var warm = Stopwatch.StartNew();
        if (!await WaitForAsync(system, "SELECT count(DISTINCT r.task_id) FROM djag.runs r JOIN djag.periodic_tasks t ON t.id = r.task_id WHERE t.name LIKE '%\\_publish' AND r.outcome = 'success'",
                n => n >= options.Groups, TimeSpan.FromMinutes(3), null))
        {
            Assert.Fail($"the chains did not all run within 3 minutes of the start\n{await DescribeAsync(system, fleet)}");
        }
        report.Line($"set up: {fleet.Describe()}; every chain ran after {warm.Elapsed.TotalSeconds:0} s; load average {LoadAverage()} on {Environment.ProcessorCount} cores");

        var t0 = Now();
        var clock = Stopwatch.StartNew();
        var faults = new List<FaultRecord>();
        var samples = new List<RssSample>();
        using var stopSampling = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var sampling = SampleAsync(system, fleet, clock, samples, report, stopSampling.Token);
        try
        {
            var rotation = Faults(system, postgres, fleet);
            for (var i = 0; options.FaultEvery * (i + 1) < options.Duration; i++)
            {
                await DelayUntilAsync(clock, options.FaultEvery * (i + 1));
                var (name, inject) = rotation[i % rotation.Length];
                var began = Now();
                var victim = await inject();
                var ended = Now();
                var record = new FaultRecord(name, (began - t0).TotalSeconds, ended - began, ended, victim);
                faults.Add(record);
                report.Line($"  {record.At,5:0} s  fault {faults.Count}: {name}{(victim is null ? "" : $" ({victim})")}, took {record.Took.TotalSeconds:0.0} s");
            }

            await DelayUntilAsync(clock, options.Duration);
        }
        finally
        {
            fleet.ThawAll();
            await stopSampling.CancelAsync();
            await sampling;
        }

        var t1 = Now();

        // Quiesce: pause every task, wait until no run is open.
        NpgsqlConnection.ClearAllPools();
        await Ledger.PauseAllAsync(system);
        var quiet = await WaitForAsync(system, "SELECT count(*) FROM djag.runs WHERE state NOT IN ('finished', 'skipped', 'coalesced')",
            n => n == 0, TimeSpan.FromMinutes(2), null);
        var open = quiet ? [] : await OpenRunsAsync(system);
        var problems = await Ledger.ProblemsAsync(system);
        var runs = await RunsAsync(system);
        var doubled = fleet.StartedMoreThanOnce(out var executions);

        var window = runs.Where(r => r.Finished is { } f && f >= t0 && f < t1).ToList();
        var minutes = (t1 - t0).TotalMinutes;
        var completed = window.Count(r => r.Outcome is RunOutcomes.Success or RunOutcomes.Failure);
        report.Line("");
        report.Line($"runs: {completed} completed in {minutes:0.0} min = {completed / minutes:0} runs/min ({runs.Count(r => r.Outcome is RunOutcomes.Success or RunOutcomes.Failure)} over the whole run)");
        report.Line($"      lost {runs.Count(r => r.Outcome == RunOutcomes.Lost)}, failed {runs.Count(r => r.Outcome == RunOutcomes.Failure)}, retries {runs.Count(r => r.Origin == RunOrigins.Retry)}, " +
                    $"skipped {runs.Count(r => r.State == RunStates.Skipped)}, coalesced {runs.Count(r => r.State == RunStates.Coalesced)} (misfire policy: late events of waiting dependers)");
        report.Line($"      per minute (completed / lost / skipped+coalesced by event): {PerMinute(runs, t0, t1)}");
        report.Line($"      dispatch lateness of cron runs (dispatched - event): roots p50 {Percentile(Lateness(runs, "_extract"), 0.5):0.00} s, p99 {Percentile(Lateness(runs, "_extract"), 0.99):0.00} s; " +
                    $"all p50 {Percentile(Lateness(runs, ""), 0.5):0.00} s, p99 {Percentile(Lateness(runs, ""), 0.99):0.00} s");
        report.Line($"faults: {faults.Count} injected");
        foreach (var fault in faults)
        {
            var next = runs.Where(r => r.Task.EndsWith("_publish", StringComparison.Ordinal) && r.Outcome == RunOutcomes.Success && r.Dispatched >= fault.Ended)
                .Select(r => r.Finished!.Value).DefaultIfEmpty().Min();
            var lost = fault.Victim is null ? "" : $", runs of {fault.Victim} lost: {runs.Count(r => r.Worker == fault.Victim && r.Outcome == RunOutcomes.Lost)}";
            report.Line($"  {fault.At,5:0} s  {fault.Name}: a chain ended again {(next == default ? "never" : $"{(next - fault.Ended).TotalSeconds:0.0} s")} after it{lost}");
        }

        var warmup = Math.Min(60, options.Duration.TotalSeconds / 3);
        report.Line($"memory (VmRSS, MB, largest of each minute; flat = last third's max <= first third's max + {MaxGrowth:P0}, thirds of the time after {warmup:0} s of warm-up):");
        var growth = new List<string>();
        foreach (var role in samples.Select(s => s.Role).Distinct())
        {
            var own = samples.Where(s => s.Role == role).ToList();
            var (flat, verdict) = Flatness(own, warmup, options.Duration.TotalSeconds);
            var perMinute = own.GroupBy(s => (int)(s.At / 60)).Select(g => $"{g.Max(s => s.Kb) / 1024.0:0}");
            report.Line($"  {role,-8} {string.Join(" ", perMinute),-40} {verdict}");
            if (!flat)
            {
                growth.Add($"{role}: {verdict}");
            }
        }

        report.Line($"workers: {executions} runs started, {doubled.Count} started more than once{(doubled.Count == 0 ? "" : ": " + string.Join(", ", doubled.Take(20)))}");
        report.Line(quiet ? "quiet: every run final after the pause" : $"NOT quiet: {open.Count} runs still open: {string.Join("; ", open.Take(20))}");
        report.Line(problems.Count == 0 ? "ledger: holds" : $"ledger: {problems.Count} problems: {string.Join("; ", problems.Take(20))}");

        Assert.True(quiet, $"runs still open after the pause: {string.Join("; ", open.Take(20))}");
        Assert.Empty(problems);
        Assert.Empty(doubled);
        Assert.Empty(growth);
        var idle = Enumerable.Range(0, (int)minutes).Where(m => !window.Any(r => r.Outcome == RunOutcomes.Success && r.Finished < t0 + Duration.FromMinutes(m + 1) && r.Finished >= t0 + Duration.FromMinutes(m))).ToList();
        Assert.True(idle.Count == 0, $"no run completed in minute(s) {string.Join(", ", idle)} of the soak");
    }

    /// <summary>Group k: extract -> (clean, enrich) -> load -> publish, every task every second, misfire policies and priorities mixed.</summary>
    private static ScheduleChange Schedule(int groups)
    {
        var tasks = new List<TaskEdit>();
        var edges = new List<DependencyEdit>();
        for (var k = 0; k < groups; k++)
        {
            var g = $"g{k:00}_";
            TaskEdit Every(string name, string task, string kwargs = "{}", int priority = 0)
            {
                var edit = TestDatabase.Task(g + name, "* * * * * *") with { Task = task, Kwargs = kwargs, Priority = priority, MaxRetries = 1, RetryBackoff = 1 };
                return (k % 3) switch
                {
                    0 => edit with { CoalesceMisfire = true, GracePeriod = 2 },
                    1 => edit with { SkipMisfire = true, GracePeriod = 2 },
                    _ => edit with { MaxCatchup = 3 },
                };
            }

            tasks.AddRange(
            [
                Every("extract", "djag.sleep", """{"seconds": 0.2}"""),
                Every("clean", "djag.echo"),
                Every("enrich", "djag.sleep", """{"seconds": 0.1}"""),
                Every("load", "djag.echo", priority: 100),
                Every("publish", "djag.echo", priority: 200),
            ]);
            edges.AddRange(
            [
                new DependencyEdit(g + "clean", g + "extract"),
                new DependencyEdit(g + "enrich", g + "extract"),
                new DependencyEdit(g + "load", g + "clean"),
                new DependencyEdit(g + "load", g + "enrich"),
                new DependencyEdit(g + "publish", g + "load", Condition: DependencyCondition.Completion),
            ]);
        }

        return new ScheduleChange { Tasks = tasks, Dependencies = edges };
    }

    /// <summary>The rotation; each returns the worker it hit, if any.</summary>
    private static (string Name, Func<Task<string?>> Inject)[] Faults(DjagSystem system, PostgresServer postgres, Fleet fleet) =>
    [
        ("SIGKILL of a worker while it runs a run, a replacement started", async () =>
        {
            var victim = fleet.Victim;
            await WaitUntilRunningAsync(system, victim.Id);
            victim.Process.Kill();
            fleet.ReplaceVictim();
            return victim.Id;
        }),
        ("SIGKILL of a beat, restarted", () =>
        {
            fleet.RestartBeat();
            return Task.FromResult<string?>(null);
        }),
        ("NATS restarted", async () =>
        {
            await system.Nats.RestartAsync(Ct);
            return null;
        }),
        ("PostgreSQL restarted", async () =>
        {
            await postgres.RestartAsync(Ct);
            NpgsqlConnection.ClearAllPools();
            return null;
        }),
        ($"SIGSTOP of a worker while it runs a run, SIGCONT {FreezeFor.TotalSeconds:0} s later", async () =>
        {
            var sleeper = fleet.Sleeper;
            await WaitUntilRunningAsync(system, sleeper.Id);
            fleet.Freeze();
            try
            {
                await Task.Delay(FreezeFor, Ct);
            }
            finally
            {
                fleet.ThawAll();
            }

            return sleeper.Id;
        }),
    ];

    /// <summary>Up to 10 s for the worker to have a run in progress, so the fault catches one; then the fault happens anyway.</summary>
    private static async Task WaitUntilRunningAsync(DjagSystem system, string worker) =>
        await WaitForAsync(system, $"SELECT count(*) FROM djag.runs WHERE state = 'running' AND worker = '{worker}'", n => n > 0, TimeSpan.FromSeconds(10), null);

    /// <summary>Every 10 s the resident memory of the processes that live through the soak; every minute a progress line.</summary>
    private static async Task SampleAsync(DjagSystem system, Fleet fleet, Stopwatch clock, List<RssSample> samples, SoakReport report, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(SampleEvery);
        var minute = 0;
        var cpu = fleet.Survivors.ToDictionary(p => p.Id, p => CpuSeconds(p.Process.Pid));
        var cpuAt = clock.Elapsed.TotalSeconds;
        try
        {
            do
            {
                var at = clock.Elapsed.TotalSeconds;
                var sample = fleet.Survivors.Select(p => new RssSample(p.Id, at, Rss(p.Process.Pid))).ToList();
                lock (samples)
                {
                    samples.AddRange(sample);
                }

                if ((int)(at / 60) > minute)
                {
                    minute = (int)(at / 60);
                    var done = await CountAsync(system, "SELECT count(*) FROM djag.runs WHERE outcome IN ('success', 'failure')");
                    var used = fleet.Survivors.Select(p => $"{p.Id} {(CpuSeconds(p.Process.Pid) - cpu[p.Id]) / (at - cpuAt):P0}").ToList();
                    cpu = fleet.Survivors.ToDictionary(p => p.Id, p => CpuSeconds(p.Process.Pid));
                    cpuAt = at;
                    report.Line($"  {at,5:0} s  {(done is { } d ? $"{d} runs completed so far" : "database unavailable")}; RSS MB: {string.Join(", ", sample.Select(s => $"{s.Role} {s.Kb / 1024.0:0}"))}; " +
                                $"CPU of a core: {string.Join(", ", used)}; load average {LoadAverage()}");
                }
            }
            while (await timer.WaitForNextTickAsync(stop));
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The soak is over.
        }
    }

    /// <summary>The machine's 1-minute load average: on a shared machine it says how much of the CPU the soak had.</summary>
    private static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ')[0];
        }
        catch (IOException)
        {
            return "?";
        }
    }

    private static (bool Flat, string Verdict) Flatness(List<RssSample> samples, double warmup, double end)
    {
        var third = (end - warmup) / 3;
        var first = samples.Where(s => s.At >= warmup && s.At < warmup + third).Select(s => s.Kb).ToList();
        var last = samples.Where(s => s.At >= end - third).Select(s => s.Kb).ToList();
        if (first.Count == 0 || last.Count == 0)
        {
            return (false, "too few samples to judge");
        }

        var growth = (double)last.Max() / first.Max() - 1;
        return (growth <= MaxGrowth, $"first third max {first.Max() / 1024.0:0} MB, last third max {last.Max() / 1024.0:0} MB: {growth:+0.0%;-0.0%} {(growth <= MaxGrowth ? "flat" : "GROWS")}");
    }

    /// <summary>User + system CPU seconds of a process so far (/proc/PID/stat, in clock ticks of 1/100 s).</summary>
    private static double CpuSeconds(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static long Rss(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static string PerMinute(List<SoakRun> runs, Instant t0, Instant t1)
    {
        var cells = new List<string>();
        for (var from = t0; from < t1; from += Duration.FromMinutes(1))
        {
            var to = from + Duration.FromMinutes(1);
            bool In(Instant? at) => at is { } a && a >= from && a < to;
            cells.Add($"{runs.Count(r => r.Outcome is RunOutcomes.Success or RunOutcomes.Failure && In(r.Finished))}"
                      + $"/{runs.Count(r => r.Outcome == RunOutcomes.Lost && In(r.Finished))}"
                      + $"/{runs.Count(r => r.State is RunStates.Skipped or RunStates.Coalesced && In(r.Cron))}");
        }

        return string.Join("  ", cells);
    }

    private static List<double> Lateness(List<SoakRun> runs, string suffix) =>
        runs.Where(r => r.Origin == RunOrigins.Cron && r.Dispatched is not null && r.Task.EndsWith(suffix, StringComparison.Ordinal))
            .Select(r => (r.Dispatched!.Value - r.Cron).TotalSeconds).Order().ToList();

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

    private static async Task<List<SoakRun>> RunsAsync(DjagSystem system)
    {
        await using var context = system.Database.Context();
        var rows = await context.Runs.AsNoTracking()
            .Join(context.PeriodicTasks, r => r.TaskId, t => t.Id, (r, t) => new { Run = r, t.Name })
            .ToListAsync(Ct);
        return rows.Select(x => new SoakRun(x.Name, x.Run.Id, x.Run.Cron, x.Run.Attempt, x.Run.Origin, x.Run.State, x.Run.Outcome, x.Run.Worker,
            x.Run.DispatchedAt, x.Run.FinishedAt)).ToList();
    }

    /// <summary>What the runs of each task and the processes say, for a failure message.</summary>
    private static async Task<string> DescribeAsync(DjagSystem system, Fleet fleet)
    {
        var runs = await RunsAsync(system);
        var tasks = runs.GroupBy(r => r.Task).OrderBy(g => g.Key)
            .Select(g => $"{g.Key}: " + string.Join(", ", g.GroupBy(r => r.Outcome ?? r.State).Select(s => $"{s.Key} {s.Count()}")));
        return $"runs per task:\n{string.Join("\n", tasks)}\n{fleet.Tails()}";
    }

    private static async Task<List<string>> OpenRunsAsync(DjagSystem system) =>
        [.. (await RunsAsync(system)).Where(r => r.State is not (RunStates.Finished or RunStates.Skipped or RunStates.Coalesced))
            .Select(r => $"{r.Task} {r.Cron} #{r.Attempt} run {r.Id} {r.State} on {r.Worker}")];

    /// <summary>Polls a count until it satisfies <paramref name="done"/>; false at the timeout (or an assertion failure when <paramref name="what"/> is given).</summary>
    private static async Task<bool> WaitForAsync(DjagSystem system, string sql, Func<long, bool> done, TimeSpan timeout, string? what)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (await CountAsync(system, sql) is { } n && done(n))
            {
                return true;
            }

            if (deadline.Elapsed > timeout)
            {
                if (what is not null)
                {
                    Assert.Fail($"timed out after {timeout} waiting until {what}");
                }

                return false;
            }

            await Task.Delay(200, Ct);
        }
    }

    /// <summary>A count, or null while PostgreSQL is away (restarted by a fault).</summary>
    private static async Task<long?> CountAsync(DjagSystem system, string sql)
    {
        try
        {
            await using var connection = new NpgsqlConnection(system.Database.ConnectionString);
            await connection.OpenAsync(Ct);
            await using var command = new NpgsqlCommand(sql, connection);
            return (long)(await command.ExecuteScalarAsync(Ct))!;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            NpgsqlConnection.ClearAllPools();
            return null;
        }
    }

    private static async Task DelayUntilAsync(Stopwatch clock, TimeSpan at)
    {
        var wait = at - clock.Elapsed;
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, Ct);
        }
    }

    private static Instant Now() => Instant.FromDateTimeOffset(TimeProvider.System.GetUtcNow());

    [GeneratedRegex(@"Run (\d+) of \S+ \(.*\) started")]
    private static partial Regex StartedLine();

    private sealed record SoakOptions(TimeSpan Duration, int Groups, TimeSpan FaultEvery, string Directory)
    {
        /// <summary>scripts/soak.sh's settings, or its defaults (5 minutes, 10 groups, a fault every 30 s).</summary>
        public static SoakOptions FromEnvironment() =>
            new(
                TimeSpan.FromMinutes(double.TryParse(Environment.GetEnvironmentVariable("DJAG_SOAK_MINUTES"), NumberStyles.Float, CultureInfo.InvariantCulture, out var minutes) && minutes > 0 ? minutes : 5),
                int.TryParse(Environment.GetEnvironmentVariable("DJAG_SOAK_GROUPS"), CultureInfo.InvariantCulture, out var groups) && groups > 0 ? groups : 10,
                TimeSpan.FromSeconds(int.TryParse(Environment.GetEnvironmentVariable("DJAG_SOAK_FAULT_SECONDS"), CultureInfo.InvariantCulture, out var every) && every > 0 ? every : 30),
                Environment.GetEnvironmentVariable("DJAG_SOAK_DIR") is { Length: > 0 } dir ? dir : Repository.File("artifacts", "soak"));
    }

    private sealed record SoakRun(string Task, long Id, Instant Cron, int Attempt, string Origin, string State, string? Outcome, string? Worker,
        Instant? Dispatched, Instant? Finished);

    private sealed record FaultRecord(string Name, double At, Duration Took, Instant Ended, string? Victim);

    private sealed record RssSample(string Role, double At, long Kb);

    /// <summary>Prints as it goes (xunit's live output) and keeps the same lines in the summary file.</summary>
    private sealed class SoakReport
    {
        private readonly string _path;
        private readonly ITestOutputHelper? _output = TestContext.Current.TestOutputHelper;
        private readonly Lock _lock = new();

        public SoakReport(string path)
        {
            _path = path;
            File.WriteAllText(path, "");
        }

        public void Line(string line)
        {
            lock (_lock)
            {
                _output?.WriteLine(line);
                File.AppendAllText(_path, line + "\n");
            }
        }
    }

    private sealed record Member(string Id, DjagProcess Process);

    /// <summary>
    /// Two beats and four workers. Beat a and workers w1, w2 live through the soak (their memory is sampled);
    /// beat b is the one killed and restarted, w3 the one killed and replaced, w4 the one frozen. Every PID is
    /// appended to a file so that scripts/soak.sh can stop what a killed test host leaves behind.
    /// </summary>
    private sealed class Fleet(DjagSystem system, string pidFile) : IAsyncDisposable
    {
        private readonly List<Member> _all = [];
        private int _generation;
        private Member? _frozen;

        public List<Member> Survivors { get; } = [];
        public Member Victim { get; private set; } = null!;
        public Member Sleeper { get; private set; } = null!;
        private Member BeatB { get; set; } = null!;

        public void Start()
        {
            File.WriteAllText(pidFile, "");
            Survivors.Add(StartBeat("beat-a"));
            BeatB = StartBeat("beat-b");
            Survivors.Add(StartWorker("w1"));
            Survivors.Add(StartWorker("w2"));
            Victim = StartWorker("w3");
            Sleeper = StartWorker("w4");
        }

        public string Describe() => string.Join(", ", _all.Select(m => $"{m.Id} (pid {m.Process.Pid})"));

        public void ReplaceVictim() => Victim = StartWorker($"w3-{++_generation}");

        public void RestartBeat()
        {
            BeatB.Process.Kill();
            BeatB = StartBeat($"beat-b-{++_generation}");
        }

        public void Freeze()
        {
            _frozen = Sleeper;
            Sleeper.Process.Freeze();
        }

        public void ThawAll()
        {
            if (Interlocked.Exchange(ref _frozen, null) is { } frozen)
            {
                frozen.Process.Thaw();
            }
        }

        /// <summary>Run ids that worker logs show started more than once (on one worker or on several).</summary>
        public List<string> StartedMoreThanOnce(out int executions)
        {
            var started = new Dictionary<long, List<string>>();
            foreach (var member in _all.Where(m => m.Id.StartsWith('w')))
            {
                foreach (Match match in StartedLine().Matches(member.Process.Output))
                {
                    var id = long.Parse(match.Groups[1].ValueSpan, CultureInfo.InvariantCulture);
                    (started.TryGetValue(id, out var on) ? on : started[id] = []).Add(member.Id);
                }
            }

            executions = started.Values.Sum(v => v.Count);
            return [.. started.Where(s => s.Value.Count > 1).Select(s => $"run {s.Key} on {string.Join(" and ", s.Value)}")];
        }

        public string Tails() => string.Join("\n", _all.Select(m => $"--- {m.Id} (pid {m.Process.Pid}, {CpuSeconds(m.Process.Pid):0.0} CPU s) ---\n{Tail(m.Process.Output)}"));

        private static string Tail(string text) => text.Length > 4000 ? text[^4000..] : text;

        public async ValueTask DisposeAsync()
        {
            ThawAll();
            foreach (var member in _all)
            {
                await member.Process.StopAsync();
            }
        }

        private Member StartBeat(string id) => Track(id, system.StartBeatProcess());

        private Member StartWorker(string id)
        {
            system.Settings["DJAG_WORKER_ID"] = id;
            try
            {
                return Track(id, system.StartWorker());
            }
            finally
            {
                system.Settings.Remove("DJAG_WORKER_ID");
            }
        }

        private Member Track(string id, DjagProcess process)
        {
            var member = new Member(id, process);
            _all.Add(member);
            File.AppendAllText(pidFile, $"{process.Pid} {id}\n");
            return member;
        }
    }
}
