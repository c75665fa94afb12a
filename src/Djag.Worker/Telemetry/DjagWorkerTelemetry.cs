using System.Diagnostics;
using Djag.Contracts;
using Djag.Hosting.Telemetry;
using NATS.Client.Core;

namespace Djag.Worker;

/// <summary>
/// The worker's traces: a <c>djag.run</c> activity around each run it executes, the child of the beat's
/// <c>djag.dispatch</c> activity whose context came in the run message's headers, and current while the
/// task runs (so a task's own outgoing calls join the run's trace). A host with its own OpenTelemetry
/// setup adds <see cref="Name"/> as a meter and as a source to get the worker's metrics and traces.
/// </summary>
public static class DjagWorkerTelemetry
{
    /// <summary>The name of the worker's meter and activity source.</summary>
    public const string Name = "Djag.Worker";

    public const string RunActivity = "djag.run";

    private static readonly ActivitySource Source = new(Name, typeof(DjagWorkerTelemetry).Assembly.GetName().Version?.ToString());

    /// <summary>Starts the activity around executing <paramref name="run"/>; null when nobody listens.</summary>
    internal static Activity? StartRun(NatsHeaders? headers, RunMessage run, string subject, string workerId)
    {
        var activity = Source.StartActivity(RunActivity, ActivityKind.Consumer, RunTraceContext.Parent(headers));
        if (activity is null)
        {
            return null;
        }

        activity.DisplayName = $"run {run.Name}";
        activity.SetTag("djag.task", run.Name);
        activity.SetTag("djag.task_type", run.Task);
        activity.SetTag("djag.run_id", run.RunId);
        activity.SetTag("djag.attempt", run.Attempt);
        activity.SetTag("djag.worker", workerId);
        activity.SetTag("messaging.system", "nats");
        activity.SetTag("messaging.operation.type", "process");
        activity.SetTag("messaging.destination.name", subject);
        return activity;
    }

    /// <summary>Marks how the run ended: <c>success</c>, <c>failure</c> (with the error as the status) or <c>given_back</c>.</summary>
    internal static void Ended(Activity? activity, string outcome, string? error)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetTag("djag.outcome", outcome);
        if (outcome == RunReportOutcomes.Failure)
        {
            activity.SetStatus(ActivityStatusCode.Error, error);
        }
    }
}
