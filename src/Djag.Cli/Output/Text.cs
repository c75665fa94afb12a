using System.Globalization;

namespace Djag.Cli.Output;

/// <summary>How tables and records show values: times in UTC as <c>yyyy-MM-dd HH:mm:ss</c>, absent values as "-".</summary>
internal static class Text
{
    public const string None = "-";

    public static string Time(DateTimeOffset? time) =>
        time is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) : None;

    public static string Number(long? value) => value is { } v ? v.ToString(CultureInfo.InvariantCulture) : None;

    public static string YesNo(bool value) => value ? "yes" : "no";

    /// <summary>Seconds as "5 s", "2m 05s", "1h 02m 03s" or "3d 4h 05m": short and exact enough for people.</summary>
    public static string Duration(TimeSpan span)
    {
        var negative = span < TimeSpan.Zero;
        var s = negative ? span.Negate() : span;
        var text = s.TotalSeconds < 60 ? $"{s.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s"
            : s.TotalHours < 1 ? $"{s.Minutes}m {s.Seconds:00}s"
            : s.TotalDays < 1 ? $"{(int)s.TotalHours}h {s.Minutes:00}m {s.Seconds:00}s"
            : $"{(int)s.TotalDays}d {s.Hours}h {s.Minutes:00}m";
        return negative ? "-" + text : text;
    }

    public static string Seconds(double? seconds) => seconds is { } s ? Duration(TimeSpan.FromSeconds(s)) : None;

    public static string Seconds(int? seconds) => seconds is { } s ? Duration(TimeSpan.FromSeconds(s)) : None;
}
