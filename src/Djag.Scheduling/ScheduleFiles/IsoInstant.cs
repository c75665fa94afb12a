using NodaTime;
using NodaTime.Text;

namespace Djag.Scheduling.ScheduleFiles;

/// <summary>The ISO-8601 instants of schedule files and the CLI: an offset or "Z" is required, because a
/// local time names no instant.</summary>
public static class IsoInstant
{
    public static bool TryParse(string? text, out Instant instant)
    {
        var result = OffsetDateTimePattern.ExtendedIso.Parse(text ?? "");
        instant = result.Success ? result.Value.ToInstant() : default;
        return result.Success;
    }

    /// <summary>UTC with "Z", e.g. "2026-03-29T01:00:00Z"; fractional seconds only when present.</summary>
    public static string Format(Instant instant) => InstantPattern.ExtendedIso.Format(instant);

    public const string Expected = "an ISO-8601 instant with an offset, e.g. 2026-03-29T00:00:00Z or 2026-03-29T02:00:00+02:00";
}
