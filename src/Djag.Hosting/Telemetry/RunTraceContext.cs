using System.Diagnostics;
using NATS.Client.Core;
using OpenTelemetry.Context.Propagation;

namespace Djag.Hosting.Telemetry;

/// <summary>
/// Carries a run's trace from the beat to the worker: the W3C <c>traceparent</c> (and <c>tracestate</c>)
/// headers of the run's NATS message. W3C always, whatever propagator the process has set, because the
/// beat and the worker may be configured differently and both must read the same headers.
/// </summary>
public static class RunTraceContext
{
    private static readonly TraceContextPropagator Propagator = new();

    /// <summary>Headers that make <paramref name="activity"/> the parent of the worker's; null without an activity (nobody listens).</summary>
    public static NatsHeaders? Headers(Activity? activity)
    {
        if (activity is null)
        {
            return null;
        }

        var headers = new NatsHeaders();
        Propagator.Inject(new PropagationContext(activity.Context, default), headers, static (carrier, name, value) => carrier[name] = value);
        return headers;
    }

    /// <summary>The context that <see cref="Headers"/> put on a message; default when the message has none.</summary>
    public static ActivityContext Parent(NatsHeaders? headers)
    {
        if (headers is null)
        {
            return default;
        }

        var context = Propagator.Extract(default, headers, static (carrier, name) =>
            carrier.TryGetValue(name, out var values) ? values.ToArray().OfType<string>() : []);
        return context.ActivityContext;
    }
}
