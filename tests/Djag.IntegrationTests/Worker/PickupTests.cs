using System.Collections.Concurrent;
using Djag.Contracts;
using Djag.Worker.Nats;
using Microsoft.Extensions.DependencyInjection;
using NATS.Client.Core;

namespace Djag.IntegrationTests.Worker;

/// <summary>
/// An idle worker is woken by the doorbell (a core subscription on its consumers' subjects) when a run is
/// published, not by its poll: the poll is set to a minute here, so a run that starts within seconds was rung in.
/// (It starts within milliseconds; the bound is for a loaded machine.)
/// </summary>
public sealed class PickupTests
{
    private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private static readonly Action<Djag.Worker.DjagWorkerOptions> PollOncePerMinute = o => o.IdlePollInterval = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task An_idle_worker_starts_a_published_run_at_once_on_each_queue_and_band()
    {
        await using var beat = await FakeBeat.StartAsync();
        await using var worker = await InProcessWorker.StartAsync(beat.Url, configure: PollOncePerMinute, queues: "default,reports");

        // One after the other, each once the worker is idle again: every one of its eight subjects rings.
        long id = 0;
        foreach (var queue in new[] { "default", "reports" })
        {
            foreach (var priority in new[] { 0, 64, 128, 255 })
            {
                await beat.PublishAsync(FakeBeat.Run(++id, "djag.echo", priority: priority, queue: queue));
                await beat.WaitForStartedAsync(id, Prompt);
                await beat.WaitForFinishedAsync(id, Wait);
            }
        }

        await TaskOutcomeTests.AssertAckedAsync(beat);
    }

    [Fact]
    public async Task The_doorbell_rings_again_after_NATS_restarts()
    {
        await using var beat = await FakeBeat.StartAsync();
        await using var worker = await InProcessWorker.StartAsync(beat.Url, configure: PollOncePerMinute);
        await beat.PublishAsync(FakeBeat.Run(1, "djag.echo"));
        await beat.WaitForFinishedAsync(1, Wait);

        await beat.Server.RestartAsync(TestContext.Current.CancellationToken);

        // Once the worker is back (NATS.Net sends its subscriptions again before anything else, so a ping
        // answered means the server has them), its bells ring for what is published.
        var connection = worker.Services.GetRequiredService<WorkerNats>().Connection;
        await FakeBeat.WaitUntilAsync(() => connection.ConnectionState == NatsConnectionState.Open, Wait, "the worker to reconnect");
        await FakeBeat.WaitUntilAsync(() => beat.Connection.ConnectionState == NatsConnectionState.Open, Wait, "the beat to reconnect");
        await connection.PingAsync(TestContext.Current.CancellationToken);
        for (var id = 2; id <= 3; id++)
        {
            await beat.PublishAsync(FakeBeat.Run(id, "djag.echo"));
            await beat.WaitForStartedAsync(id, Prompt);
            await beat.WaitForFinishedAsync(id, Wait);
        }
    }

    [Fact]
    public async Task A_burst_on_one_band_does_not_ask_the_other_bands_for_each_round()
    {
        await using var beat = await FakeBeat.StartAsync();

        // Each fetch is a request on $JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>, which any core subscriber sees too.
        var fetches = new ConcurrentDictionary<string, int>();
        var ct = TestContext.Current.CancellationToken;
        await using var requests = await beat.Connection.SubscribeCoreAsync<byte[]>("$JS.API.CONSUMER.MSG.NEXT.>", cancellationToken: ct);
        var counting = Task.Run(async () =>
        {
            await foreach (var request in requests.Msgs.ReadAllAsync(ct))
            {
                fetches.AddOrUpdate(request.Subject[(request.Subject.LastIndexOf('.') + 1)..], 1, (_, n) => n + 1);
            }
        }, ct);
        await beat.Connection.PingAsync(ct);

        await using var worker = await InProcessWorker.StartAsync(beat.Url, configure: PollOncePerMinute);
        const int Runs = 200;
        for (var id = 1; id <= Runs; id++)
        {
            await beat.PublishAsync(FakeBeat.Run(id, "djag.echo"));
        }

        await FakeBeat.WaitUntilAsync(() => beat.Reports.Values.Count(r => r.State == RunReportStates.Finished) == Runs, Wait, $"all {Runs} runs to finish");

        TestContext.Current.TestOutputHelper?.WriteLine($"fetches: {Describe(fetches)}");

        // Band 0 is asked once per round at least (a fetch takes at most the 4 free slots). The other bands were asked in
        // the worker's first round, and since then only when it went idle and its poll came due, which with a poll a
        // minute does not happen here; before, every round that took runs asked all four bands.
        Assert.True(fetches.GetValueOrDefault(DjagNames.ConsumerName("default", 0)) >= Runs / 4, $"fetches: {Describe(fetches)}");
        for (var band = 1; band < DjagNames.PriorityBands; band++)
        {
            Assert.True(fetches.GetValueOrDefault(DjagNames.ConsumerName("default", band)) <= 3, $"band {band} was asked too often; fetches: {Describe(fetches)}");
        }

        await TaskOutcomeTests.AssertAckedAsync(beat);
        Assert.False(counting.IsFaulted);

        static string Describe(ConcurrentDictionary<string, int> counts) =>
            string.Join(", ", counts.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key} {c.Value}"));
    }
}
