using Djag.Beat.Dispatch;
using Djag.Contracts;
using Djag.Hosting.Nats;
using Djag.Persistence.Runs;
using Djag.Persistence.Schedules;
using Djag.TestKit;
using NATS.Net;
using NodaTime;

namespace Djag.IntegrationTests.EndToEnd;

public sealed class RunPublisherTests
{
    /// <summary>
    /// Beats publish a run again when they cannot know whether its first publish arrived (start-up reconciliation,
    /// runs still dispatched after a lease); when it did, the stream's duplicate is success, not an exception that
    /// ends the pass (and, at start-up, the report watch) before the runs that really were lost.
    /// </summary>
    [Fact]
    public async Task Publishing_a_run_again_is_a_dropped_duplicate_not_an_error()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var nats = await NatsServer.StartAsync(ct);
        await using var client = new NatsClient(nats.Url);
        var js = client.CreateJetStreamContext();
        await DjagNatsSetup.EnsureStreamAndBucketsAsync(js, client.CreateKeyValueStoreContext(), 1, ct);
        var publisher = new RunPublisher(js);
        var task = new PeriodicTask { Name = "once", Task = "djag.echo" };
        var run = new Run { Id = 42, Cron = Instant.FromUtc(2026, 1, 1, 0, 0), State = RunStates.Dispatched, DispatchedAt = Instant.FromUtc(2026, 1, 1, 0, 0) };

        await publisher.PublishAsync(run, task, ct);
        await publisher.PublishAsync(run, task, ct);

        var stream = await js.GetStreamAsync(DjagNames.RunsStream, cancellationToken: ct);
        Assert.Equal(1, stream.Info.State.Messages);
    }
}
