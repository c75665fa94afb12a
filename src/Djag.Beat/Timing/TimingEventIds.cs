namespace Djag.Beat.Timing;

/// <summary>Event ids of the timing engine's log messages: range 3000-3099 (beside <c>Hosting.BeatEventIds</c>).</summary>
internal static class TimingEventIds
{
    public const int TaskScheduled = 3000;
    public const int TaskUnchanged = 3001;
    public const int TaskUnscheduled = 3002;
    public const int TasksSynced = 3003;
    public const int TaskHasNoFutureEvent = 3004;
    public const int HandlerFailed = 3010;
    public const int HandlerCancelled = 3011;
    public const int SchemaProvisioned = 3020;
}
