using System.Text.Json;
using Djag.Beat.Telemetry;
using Djag.Contracts;
using Djag.Persistence.Runs;
using Djag.Persistence.Schedules;
using NATS.Client.JetStream;

namespace Djag.Beat.Dispatch;

/// <summary>
/// Publishes a dispatched run to JetStream with its id as the message id, so a second publish of the
/// same run (after a crash between commit and publish) is dropped by the stream's duplicate window, and
/// counts as published.
/// </summary>
internal sealed class RunPublisher(INatsJSContext js)
{
    public async Task PublishAsync(Run run, PeriodicTask task, CancellationToken ct)
    {
        var message = new RunMessage
        {
            RunId = run.Id,
            Name = task.Name,
            Task = task.Task,
            Cron = run.Cron.ToDateTimeOffset(),
            Attempt = run.Attempt,
            Args = Parse(task.Args),
            Kwargs = Parse(task.Kwargs),
            Headers = Parse(task.Headers),
            Queue = task.Queue,
            Priority = task.Priority,
            TimeoutSeconds = task.Timeout,
            DispatchedAt = (run.DispatchedAt ?? run.Cron).ToDateTimeOffset(),
        };
        var body = JsonSerializer.SerializeToUtf8Bytes(message, DjagJsonContext.Default.RunMessage);
        var subject = DjagNames.RunsSubject(task.Queue, task.Priority);
        using var activity = BeatTelemetry.StartDispatch(run, task, subject);
        var ack = await js.PublishAsync(
            subject,
            body,
            opts: new NatsJSPubOpts { MsgId = DjagNames.RunKey(run.Id) },
            headers: BeatTelemetry.Headers(activity),
            cancellationToken: ct);

        // The stream had this run within its duplicate window (a republish of a run whose first publish did arrive).
        // EnsureSuccess would throw for it, failing a whole republishing pass on the first run that was not lost.
        if (ack is { Error: null, Duplicate: true })
        {
            return;
        }

        ack.EnsureSuccess();
    }

    private static JsonElement Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }
}
