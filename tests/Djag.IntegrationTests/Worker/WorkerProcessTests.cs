using Djag.Hosting.Nats;
using System.Diagnostics;
using System.Globalization;
using Djag.Contracts;

namespace Djag.IntegrationTests.Worker;

/// <summary>The built djag-worker as separate processes: a fleet sharing the work, a kill, a stop.</summary>
public sealed class WorkerProcessTests
{
    [Fact]
    public async Task Burst_over_three_worker_processes_runs_every_run_exactly_once()
    {
        const int runs = 2000;
        await using var endpoint = new TestHttpEndpoint();
        await using var beat = await FakeBeat.StartAsync();
        await using var first = await WorkerProcess.StartAsync(beat);
        await using var second = await WorkerProcess.StartAsync(beat);
        await using var third = await WorkerProcess.StartAsync(beat);

        // Each run leaves a mark outside NATS: a request to its own path, which a second execution would repeat.
        for (var id = 1; id <= runs; id++)
        {
            await beat.PublishAsync(FakeBeat.Run(id, "djag.http", kwargs: $$"""{"url": "{{endpoint.Url($"/hit/{id}")}}"}"""));
        }

        await FakeBeat.WaitUntilAsync(
            () => beat.Reports.Values.Count(r => r.State == RunReportStates.Finished) == runs,
            TimeSpan.FromMinutes(3),
            $"{runs} runs to finish");
        await TaskOutcomeTests.AssertAckedAsync(beat);

        Assert.All(beat.Reports.Values, r => Assert.Equal(RunReportOutcomes.Success, r.Outcome));
        Assert.Equal(runs, endpoint.AllHits.Count);
        Assert.All(Enumerable.Range(1, runs), id => Assert.Equal(1, endpoint.Hits($"/hit/{id}")));
        var perWorker = beat.Reports.Values.GroupBy(r => r.Worker).ToDictionary(g => g.Key, g => g.Count());
        TestContext.Current.TestOutputHelper?.WriteLine(string.Join(", ", perWorker.Select(w => $"{w.Key}: {w.Value}")));
        Assert.Equal(new[] { first.Id, second.Id, third.Id }.Order(StringComparer.Ordinal), perWorker.Keys.Order(StringComparer.Ordinal));
        Assert.All(perWorker.Values, count => Assert.True(count >= runs / 10, $"a worker ran only {count} of {runs}"));
    }

    [Fact]
    public async Task Killed_worker_leaves_its_run_started_and_the_redelivered_run_is_not_executed_again()
    {
        await using var endpoint = new TestHttpEndpoint();
        await using var beat = await FakeBeat.StartAsync();
        await using var doomed = await WorkerProcess.StartAsync(beat);

        // A request the endpoint holds open: the run is in progress when its worker dies.
        await beat.PublishAsync(FakeBeat.Run(1, "djag.http", kwargs: $$"""{"url": "{{endpoint.Url("/hold/1")}}"}"""));
        var started = await beat.WaitForStartedAsync(1, TimeSpan.FromSeconds(20));
        Assert.Equal(doomed.Id, started.Worker);
        await FakeBeat.WaitUntilAsync(() => endpoint.Hits("/hold/1") == 1, TimeSpan.FromSeconds(20), "the held request");

        await doomed.KillAsync();
        var killed = Stopwatch.StartNew();
        await using var survivor = await WorkerProcess.StartAsync(beat);

        await FakeBeat.WaitUntilAsync(async () => await beat.HeartbeatAsync(doomed.Id) is null, DjagNames.WorkerTtl + TimeSpan.FromSeconds(10), "the dead worker's heartbeat to expire");
        Assert.InRange(killed.Elapsed, DjagNames.WorkerTtl - DjagNames.WorkerHeartbeatInterval - TimeSpan.FromSeconds(1), DjagNames.WorkerTtl + TimeSpan.FromSeconds(5));
        Assert.NotNull(await beat.HeartbeatAsync(survivor.Id));

        // After the ack wait JetStream redelivers the run to the survivor, which finds it started by the dead
        // worker and terminates the message instead of running it a second time.
        await FakeBeat.WaitUntilAsync(
            async () => await beat.MessagesInStreamAsync() == 0,
            DjagNatsSetup.DefaultAckWait + TimeSpan.FromSeconds(20),
            "the redelivered run to be terminated");
        Assert.Equal(started, await beat.ReadReportAsync(1));
        Assert.Equal(1, endpoint.Hits("/hold/1"));
        Assert.Contains($"Run 1 was delivered again but {doomed.Id} started it", survivor.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sigterm_lets_the_run_in_flight_finish_and_report_then_exits_with_zero()
    {
        await using var beat = await FakeBeat.StartAsync();
        await using var worker = await WorkerProcess.StartAsync(beat);
        await beat.PublishAsync(FakeBeat.Run(1, "djag.sleep", kwargs: """{"seconds": 2}"""));
        await beat.WaitForStartedAsync(1, TimeSpan.FromSeconds(20));

        await worker.TerminateAsync();
        var exitCode = await worker.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(0, exitCode);
        var entry = await beat.Buckets.RunReports.GetEntryAsync(DjagNames.RunKey(1), serializer: DjagSerializers.RunReport, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(RunReportStates.Finished, entry.Value!.State);
        Assert.Equal(RunReportOutcomes.Success, entry.Value.Outcome);
        Assert.Equal(0UL, await beat.MessagesInStreamAsync());
        Assert.Null(await beat.HeartbeatAsync(worker.Id));
    }

    [Fact]
    public async Task Sigterm_gives_back_a_run_that_outlasts_the_shutdown_timeout()
    {
        await using var beat = await FakeBeat.StartAsync();
        await using var worker = await WorkerProcess.StartAsync(beat, environment: new Dictionary<string, string> { ["DJAG_SHUTDOWN_TIMEOUT_SECONDS"] = "1" });
        await beat.PublishAsync(FakeBeat.Run(1, "djag.shell", kwargs: """{"program": "sleep", "args": ["60"]}"""));
        await beat.WaitForStartedAsync(1, TimeSpan.FromSeconds(20));

        var stopping = Stopwatch.StartNew();
        await worker.TerminateAsync();
        var exitCode = await worker.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(0, exitCode);
        Assert.InRange(stopping.Elapsed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10));
        Assert.Null(await beat.ReadReportAsync(1));
        Assert.Equal(1UL, await beat.MessagesInStreamAsync());
        Assert.Contains("Gave back run 1 of djag.shell", worker.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_settings_stop_the_process_with_every_problem_in_its_output()
    {
        var result = await WorkerProcess.RunToExitAsync(
            ["--queues", "default,no spaces"],
            new Dictionary<string, string> { ["DJAG_NATS_URL"] = "http://127.0.0.1:4222", ["DJAG_CONCURRENCY"] = "0" });

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("NatsUrl (DJAG_NATS_URL): 'http://127.0.0.1:4222' is not a NATS server URL", result.Output, StringComparison.Ordinal);
        Assert.Contains("Queues (--queues, DJAG_QUEUES): 'no spaces' is not a queue name", result.Output, StringComparison.Ordinal);
        Assert.Contains("Concurrency (DJAG_CONCURRENCY): 0 is out of range: 1-1024", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unreachable_NATS_stops_the_process_naming_the_server()
    {
        var url = $"nats://127.0.0.1:{Loopback.FreePort().ToString(CultureInfo.InvariantCulture)}";

        var result = await WorkerProcess.RunToExitAsync([], new Dictionary<string, string> { ["DJAG_NATS_URL"] = url });

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains($"cannot connect to NATS at {url}", result.Output, StringComparison.Ordinal);
    }
}
