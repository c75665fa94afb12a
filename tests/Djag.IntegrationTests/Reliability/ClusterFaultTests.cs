using System.Globalization;
using System.Text.RegularExpressions;
using Djag.Contracts;
using Djag.IntegrationTests.EndToEnd;
using Djag.IntegrationTests.Infrastructure;
using Djag.IntegrationTests.Persistence;
using Djag.Persistence.Runs;
using Djag.Persistence.Schedules;
using Djag.TestKit;
using NATS.Net;
using NodaTime;

namespace Djag.IntegrationTests.Reliability;

/// <summary>
/// The system on a 3-node JetStream cluster (the runs stream and both buckets with 3 replicas): a burst of
/// <see cref="BurstSize"/> tasks every 5 s beside the chain extract -> transform -> load every second, and the
/// node that leads the runs stream is SIGKILLed in the middle of a burst, later started again. Bursts must go on
/// completing meanwhile, and afterwards the ledger must hold (see <see cref="Ledger"/>), no service may have died
/// and no run may have been executed twice.
/// </summary>
[Collection(FaultsCollection.Name)]
public sealed partial class ClusterFaultTests(ServersFixture servers)
{
    private const int BurstSize = 300;
    private static readonly TimeSpan BurstTimeout = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(90);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Killing_the_stream_leader_of_a_3_node_cluster_in_the_middle_of_a_burst_loses_and_doubles_nothing()
    {
        await using var system = await DjagSystem.StartOnClusterAsync(servers, "f_cluster");
        var cluster = system.Cluster!;
        // One line per run a worker starts: how the test sees a run executed twice.
        system.Settings["DJAG_LOGGING__LOG_LEVEL__DJAG.WORKER.RUNS.RUNEXECUTOR"] = "Debug";
        DjagProcess[] workers = [system.StartWorker(), system.StartWorker()];
        DjagProcess[] processes = [.. workers, system.StartBeatProcess()];
        await system.ApplyAsync(new ScheduleChange
        {
            Tasks = [.. Burst(), .. FaultTests.Chain()],
            Dependencies = [new DependencyEdit("transform", "extract"), new DependencyEdit("load", "transform")],
        });

        var before = await WaitForFullBurstsAsync(system, after: Instant.MinValue, count: 1, "before the kill");

        int? leaderNode;
        await using (var nats = new NatsClient(cluster.Url))
        {
            var js = nats.CreateJetStreamContext();
            foreach (var stream in (string[])[DjagNames.RunsStream, "KV_" + DjagNames.RunReportsBucket, "KV_" + DjagNames.WorkersBucket])
            {
                Assert.Equal(NatsCluster.Size, (await js.GetStreamAsync(stream, cancellationToken: Ct)).Info.Config.NumReplicas);
            }

            var leader = (await js.GetStreamAsync(DjagNames.RunsStream, cancellationToken: Ct)).Info.Cluster?.Leader;
            leaderNode = string.IsNullOrEmpty(leader) ? null : NatsCluster.NodeNamed(leader);
        }

        var victim = leaderNode ?? 0;

        // A later burst is under way: some of its runs are there, not all of them are done.
        var runs = await system.WaitForRunsAsync(
            r => r.Where(x => x.Task.StartsWith('b') && x.Cron > before).GroupBy(x => x.Cron)
                .Any(g => g.Count(x => x.Outcome == RunOutcomes.Success) < BurstSize),
            BurstTimeout, "the next burst is being dispatched");
        var killedDuring = runs.Where(x => x.Task.StartsWith('b') && x.Cron > before).Max(x => x.Cron);
        await cluster.KillAsync(victim);
        var burst = runs.Where(x => x.Task.StartsWith('b') && x.Cron == killedDuring).ToList();
        Log($"killed {NatsCluster.ServerName(victim)} (stream leader: {victim == leaderNode}) in the burst of {killedDuring}: " +
            $"{burst.Count} of {BurstSize} runs there, {burst.Count(x => x.Outcome == RunOutcomes.Success)} succeeded");
        var afterKill = await WaitForFullBurstsAsync(system, after: killedDuring, count: 2, $"after the kill of stream leader {NatsCluster.ServerName(victim)}");

        await cluster.StartAsync(victim, Ct);
        await WaitForFullBurstsAsync(system, after: afterKill, count: 1, $"after {NatsCluster.ServerName(victim)} rejoined");

        await Ledger.QuiesceAndCheckAsync(system, Settle);
        await AssertReplicatedAsync(cluster);
        Assert.All(processes, p => Assert.False(p.HasExited, $"a service exited:\n{p.Output}"));
        var started = workers.SelectMany(w => StartedLine().Matches(w.Output).Select(m => long.Parse(m.Groups[1].ValueSpan, CultureInfo.InvariantCulture))).ToList();
        Assert.Empty(started.GroupBy(id => id).Where(g => g.Count() > 1).Select(g => $"run {g.Key} started {g.Count()} times"));
        var all = await system.RunsAsync();
        Log($"{all.Count} runs: {string.Join(", ", all.GroupBy(r => r.Outcome ?? r.State).Select(g => $"{g.Count()} {g.Key}"))}; " +
            $"{all.Count(r => r.Attempt > 1)} retries; {started.Count} executions");
        foreach (var process in processes)
        {
            var lines = process.Output.Split('\n');
            var warnings = lines.Index().Where(l => l.Item.StartsWith("warn", StringComparison.Ordinal) || l.Item.StartsWith("fail", StringComparison.Ordinal)).ToList();
            Log($"--- pid {process.Pid}: {warnings.Count} warnings and failures");
            foreach (var (index, line) in warnings.Take(20))
            {
                Log(string.Join(" | ", lines.Skip(index).Take(4).Select(l => l.Trim())));
            }
        }
    }

    [GeneratedRegex(@"Run (\d+) of \S+ \(.*\) started")]
    private static partial Regex StartedLine();

    private static void Log(string line) => TestContext.Current.TestOutputHelper?.WriteLine(line);

    private static TaskEdit[] Burst() =>
    [
        .. Enumerable.Range(0, BurstSize).Select(i => TestDatabase.Task($"b{i:000}", "*/5 * * * * *") with { Task = "djag.echo" }),
    ];

    /// <summary>
    /// Waits until <paramref name="count"/> cron instants after <paramref name="after"/> each saw every burst task
    /// succeed; returns the last of them.
    /// </summary>
    private static async Task<Instant> WaitForFullBurstsAsync(DjagSystem system, Instant after, int count, string when)
    {
        var runs = await system.WaitForRunsAsync(r => FullBursts(r, after).Count() >= count, BurstTimeout, $"{count} full burst(s) completed {when}");
        return FullBursts(runs, after).Take(count).Last();
    }

    private static IEnumerable<Instant> FullBursts(List<RunRow> runs, Instant after) =>
        runs.Where(r => r.Task.StartsWith('b') && r.Cron > after && r.Outcome == RunOutcomes.Success)
            .GroupBy(r => r.Cron)
            .Where(g => g.Select(r => r.Task).Distinct().Count() == BurstSize)
            .Select(g => g.Key)
            .Order();

    /// <summary>The restarted node caught up: the runs stream has a leader and both other replicas are current.</summary>
    private static async Task AssertReplicatedAsync(NatsCluster cluster)
    {
        await using var nats = new NatsClient(cluster.Url);
        var js = nats.CreateJetStreamContext();
        var deadline = TimeProvider.System.GetUtcNow() + Settle;
        while (true)
        {
            var info = (await js.GetStreamAsync(DjagNames.RunsStream, cancellationToken: Ct)).Info.Cluster;
            if (info is { Leader: not null, Replicas: { Count: NatsCluster.Size - 1 } replicas } && replicas.All(r => r.Current))
            {
                return;
            }

            Assert.True(TimeProvider.System.GetUtcNow() < deadline,
                $"the runs stream's replicas did not catch up: leader {info?.Leader}, replicas {string.Join(", ", info?.Replicas?.Select(r => $"{r.Name} current={r.Current}") ?? [])}");
            await Task.Delay(200, Ct);
        }
    }
}
