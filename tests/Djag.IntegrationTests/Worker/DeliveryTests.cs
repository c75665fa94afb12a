using Djag.Hosting.Nats;
using System.Collections.Concurrent;
using System.Diagnostics;
using Djag.Contracts;
using NATS.Client.JetStream;

namespace Djag.IntegrationTests.Worker;

/// <summary>How runs reach workers: priority, duplicates, claims, shutdown and a NATS outage, with in-process workers.</summary>
public sealed class DeliveryTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Higher_priority_runs_go_first_when_work_backs_up()
    {
        await using var beat = await FakeBeat.StartAsync();
        for (var id = 1; id <= 5; id++)
        {
            await beat.PublishAsync(FakeBeat.Run(id, "test.record", priority: 0));
        }

        for (var id = 101; id <= 105; id++)
        {
            await beat.PublishAsync(FakeBeat.Run(id, "test.record", priority: 255));
        }

        await beat.PublishAsync(FakeBeat.Run(50, "test.record", priority: 100));
        var order = new ConcurrentQueue<long>();
        await using var worker = await InProcessWorker.StartAsync(beat.Url, concurrency: 1, tasks: tasks => tasks.AddTask("test.record", context =>
        {
            order.Enqueue(context.RunId);
            return Task.CompletedTask;
        }));

        await FakeBeat.WaitUntilAsync(() => beat.Reports.Values.Count(r => r.State == RunReportStates.Finished) == 11, Wait, "all 11 runs to finish");
        Assert.Equal([101, 102, 103, 104, 105, 50, 1, 2, 3, 4, 5], order);
    }

    [Fact]
    public async Task Duplicate_of_a_finished_run_is_acknowledged_without_running_it_again()
    {
        await using var beat = await FakeBeat.StartAsync();
        var executions = new ConcurrentDictionary<long, int>();
        await using var worker = await InProcessWorker.StartAsync(beat.Url, tasks => tasks.AddTask("test.count", context =>
        {
            executions.AddOrUpdate(context.RunId, 1, (_, n) => n + 1);
            return Task.CompletedTask;
        }));

        await beat.PublishAsync(FakeBeat.Run(1, "test.count"));
        var first = await beat.WaitForFinishedAsync(1, Wait);
        // The same run once more, past the stream's duplicate window (another message id).
        await beat.PublishAsync(FakeBeat.Run(1, "test.count"), messageId: "1-again");
        await TaskOutcomeTests.AssertAckedAsync(beat);
        await beat.PublishAsync(FakeBeat.Run(2, "test.count"));
        await beat.WaitForFinishedAsync(2, Wait);

        Assert.Equal(1, executions[1]);
        Assert.Equal(first, beat.Report(1));
        Assert.Equal(1, beat.StartedCount(1));
    }

    [Fact]
    public async Task Run_started_by_another_worker_is_terminated_without_running_it()
    {
        await using var beat = await FakeBeat.StartAsync();
        var ghost = new RunReport { RunId = 7, State = RunReportStates.Started, Worker = "ghost-1", StartedAt = new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero) };
        await beat.Buckets.RunReports.CreateAsync(DjagNames.RunKey(7), ghost, DjagSerializers.RunReport, TestContext.Current.CancellationToken);
        var executed = 0;
        await using var worker = await InProcessWorker.StartAsync(beat.Url, tasks => tasks.AddTask("test.count", _ =>
        {
            Interlocked.Increment(ref executed);
            return Task.CompletedTask;
        }));

        await beat.PublishAsync(FakeBeat.Run(7, "test.count"));
        await TaskOutcomeTests.AssertAckedAsync(beat);

        Assert.Equal(0, executed);
        Assert.Equal(ghost, beat.Report(7));
        Assert.Equal(0UL, await beat.PendingAsync());
    }

    [Fact]
    public async Task Heartbeat_names_the_worker_its_queues_and_its_running_runs()
    {
        await using var beat = await FakeBeat.StartAsync();
        await using var worker = await InProcessWorker.StartAsync(beat.Url, queues: "default,reports", concurrency: 3, shutdownTimeout: TimeSpan.FromSeconds(1));

        await beat.PublishAsync(FakeBeat.Run(1, "djag.sleep", kwargs: """{"seconds": 30}""", queue: "reports"));
        await beat.WaitForStartedAsync(1, Wait);
        await FakeBeat.WaitUntilAsync(async () => (await beat.HeartbeatAsync(worker.Id))?.RunningRuns is [1], Wait, "the heartbeat to list run 1");

        var heartbeat = (await beat.HeartbeatAsync(worker.Id))!;
        Assert.Equal(worker.Id, heartbeat.Worker);
        Assert.Equal(["default", "reports"], heartbeat.Queues);
        Assert.Equal(3, heartbeat.Concurrency);
        Assert.Equal(Environment.ProcessId, heartbeat.ProcessId);
    }

    [Fact]
    public async Task Stopping_gives_back_runs_that_outlast_the_shutdown_timeout()
    {
        await using var beat = await FakeBeat.StartAsync();
        var first = await InProcessWorker.StartAsync(beat.Url, shutdownTimeout: TimeSpan.FromSeconds(1));
        await beat.PublishAsync(FakeBeat.Run(1, "djag.sleep", kwargs: """{"seconds": 3}"""));
        Assert.Equal(first.Id, (await beat.WaitForStartedAsync(1, Wait)).Worker);

        await first.DisposeAsync();

        // Released: no report, the message still in the stream, the worker's heartbeat gone.
        var entry = await beat.Buckets.RunReports.TryGetEntryAsync(DjagNames.RunKey(1), serializer: DjagSerializers.RunReport, cancellationToken: TestContext.Current.CancellationToken);
        Assert.IsType<NATS.Client.KeyValueStore.NatsKVKeyDeletedException>(entry.Error);
        Assert.Equal(1UL, await beat.MessagesInStreamAsync());
        Assert.Null(await beat.HeartbeatAsync(first.Id));

        // NAKed, not left to time out: the next worker gets it at once, well inside the 30 s ack wait.
        var restarted = Stopwatch.StartNew();
        await using var second = await InProcessWorker.StartAsync(beat.Url);
        var report = await beat.WaitForFinishedAsync(1, Wait);
        Assert.Equal(second.Id, report.Worker);
        Assert.Equal(RunReportOutcomes.Success, report.Outcome);
        Assert.InRange(restarted.Elapsed, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Reports_are_stored_across_a_NATS_restart()
    {
        await using var beat = await FakeBeat.StartAsync();
        await using var worker = await InProcessWorker.StartAsync(beat.Url);
        await beat.PublishAsync(FakeBeat.Run(1, "djag.sleep", kwargs: """{"seconds": 2}"""));
        await beat.WaitForStartedAsync(1, Wait);

        // Down for a while: the run finishes while NATS is away, and its report must wait for it.
        await beat.Server.StopAsync();
        await Task.Delay(TimeSpan.FromSeconds(3), TestContext.Current.CancellationToken);
        await beat.Server.RestartAsync(TestContext.Current.CancellationToken);

        var report = await beat.WaitForFinishedAsync(1, TimeSpan.FromSeconds(30));
        Assert.Equal(RunReportOutcomes.Success, report.Outcome);

        // And the worker goes on taking runs.
        await beat.PublishAsync(FakeBeat.Run(2, "djag.echo"));
        Assert.Equal(RunReportOutcomes.Success, (await beat.WaitForFinishedAsync(2, TimeSpan.FromSeconds(30))).Outcome);
        await TaskOutcomeTests.AssertAckedAsync(beat);
    }

    [Fact]
    public async Task Run_longer_than_the_ack_wait_keeps_its_message_while_it_runs()
    {
        await using var beat = await FakeBeat.StartAsync();
        var executions = 0;
        Action<Djag.Worker.DjagWorkerBuilder> tasks = t => t.AddTask("test.slow", async context =>
        {
            Interlocked.Increment(ref executions);
            await Task.Delay(TimeSpan.FromSeconds(5), context.CancellationToken);
        });
        Action<Djag.Worker.DjagWorkerOptions> shortAckWait = o => o.AckWait = TimeSpan.FromSeconds(1.5);
        await using var first = await InProcessWorker.StartAsync(beat.Url, tasks, shortAckWait);
        await using var second = await InProcessWorker.StartAsync(beat.Url, tasks, shortAckWait);

        await beat.PublishAsync(FakeBeat.Run(1, "test.slow"));
        var report = await beat.WaitForFinishedAsync(1, Wait);

        Assert.Equal(RunReportOutcomes.Success, report.Outcome);
        Assert.Equal(1, executions);
        Assert.Equal(0, (await beat.ConsumerInfoAsync("default", 0)).NumRedelivered);
        await TaskOutcomeTests.AssertAckedAsync(beat);
    }

    [Fact]
    public async Task Message_that_is_not_a_run_is_terminated_and_the_worker_goes_on()
    {
        await using var beat = await FakeBeat.StartAsync();
        await using var worker = await InProcessWorker.StartAsync(beat.Url);

        var ack = await beat.JetStream.PublishAsync(DjagNames.RunsSubject("default", 0), "not a run", cancellationToken: TestContext.Current.CancellationToken);
        ack.EnsureSuccess();
        await beat.PublishAsync(FakeBeat.Run(1, "djag.echo"));

        Assert.Equal(RunReportOutcomes.Success, (await beat.WaitForFinishedAsync(1, Wait)).Outcome);
        await TaskOutcomeTests.AssertAckedAsync(beat);
    }
}
