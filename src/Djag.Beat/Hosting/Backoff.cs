namespace Djag.Beat.Hosting;

/// <summary>The beat's pauses between attempts at something that failed (a watch, a listener, an evaluation): 200 ms, doubling to 10 s.</summary>
internal static class Backoff
{
    public static readonly TimeSpan First = TimeSpan.FromMilliseconds(200);

    private static readonly TimeSpan Longest = TimeSpan.FromSeconds(10);

    public static TimeSpan Next(TimeSpan pause) => pause * 2 < Longest ? pause * 2 : Longest;
}
