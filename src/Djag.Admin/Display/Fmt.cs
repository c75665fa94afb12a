using System.Globalization;
using Microsoft.AspNetCore.Html;

namespace Djag.Admin.Display;

/// <summary>How the pages write times and durations: UTC, to the second, sortable.</summary>
public static class Fmt
{
    public const string Missing = "—";

    public static string Time(DateTimeOffset? value) =>
        value is { } v ? v.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) : Missing;

    /// <summary>A <c>&lt;time&gt;</c> element (which the stylesheet keeps on one line), or a dash.</summary>
    public static IHtmlContent At(DateTimeOffset? value) =>
        value is null ? new HtmlString(Missing) : new HtmlString($"<time datetime=\"{Iso(value)}\">{Time(value)}</time>");

    /// <summary>The value of a <c>datetime-local</c> input holding a UTC time.</summary>
    public static string InputTime(DateTimeOffset? value) =>
        value is { } v ? v.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture) : "";

    public static string Iso(DateTimeOffset? value) => value?.ToString("O", CultureInfo.InvariantCulture) ?? "";

    public static string Duration(double? seconds) => seconds switch
    {
        null => Missing,
        < 1 => $"{seconds.Value * 1000:0} ms",
        < 120 => $"{seconds.Value:0.0} s",
        < 7200 => $"{seconds.Value / 60:0.0} min",
        _ => $"{seconds.Value / 3600:0.0} h",
    };

    public static string Number(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>The first <paramref name="max"/> characters, for a table cell; the full text is on the details page.</summary>
    public static string Clip(string? text, int max = 80) =>
        string.IsNullOrEmpty(text) ? "" : text.Length <= max ? text : text[..max] + "…";
}
