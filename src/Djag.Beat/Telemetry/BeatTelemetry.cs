using System.Diagnostics;
using System.Globalization;
using Djag.Hosting.Telemetry;
using Djag.Persistence.Runs;
using Djag.Persistence.Schedules;
using NATS.Client.Core;
using NodaTime.Text;

namespace Djag.Beat.Telemetry;

/// <summary>
/// The beat's traces: one <c>djag.dispatch</c> activity per published run, whose W3C context travels in
/// the run's NATS headers so that the worker's <c>djag.run</c> activity continues the same trace.
/// </summary>
internal static class BeatTelemetry
{
    /// <summary>The name of the beat's meter and activity source.</summary>
    public const string Name = "Djag.Beat";

    public const string DispatchActivity = "djag.dispatch";

    private static readonly ActivitySource Source = new(Name, typeof(BeatTelemetry).Assembly.GetName().Version?.ToString());

    /// <summary>Starts the activity around publishing <paramref name="run"/>; null when nobody listens.</summary>
    public static Activity? StartDispatch(Run run, PeriodicTask task, string subject)
    {
        var activity = Source.StartActivity(DispatchActivity, ActivityKind.Producer);
        if (activity is null)
        {
            return null;
        }

        activity.DisplayName = $"dispatch {task.Name}";
        activity.SetTag("djag.task", task.Name);
        activity.SetTag("djag.run_id", run.Id);
        activity.SetTag("djag.cron", InstantPattern.ExtendedIso.Format(run.Cron));
        activity.SetTag("djag.attempt", run.Attempt);
        activity.SetTag("djag.origin", run.Origin);
        activity.SetTag("djag.queue", task.Queue);
        activity.SetTag("messaging.system", "nats");
        activity.SetTag("messaging.operation.type", "send");
        activity.SetTag("messaging.destination.name", subject);
        activity.SetTag("messaging.message.id", run.Id.ToString(CultureInfo.InvariantCulture));
        return activity;
    }

    /// <summary>The headers that carry <paramref name="activity"/> to the worker.</summary>
    public static NatsHeaders? Headers(Activity? activity) => RunTraceContext.Headers(activity);
}
