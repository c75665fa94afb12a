namespace Djag.Beat.Hosting;

/// <summary>Event ids of the beat's log messages, in ranges per concern.</summary>
internal static class BeatEventIds
{
    // 1000-1099: start and stop
    public const int DatabaseReady = 1000;
}
