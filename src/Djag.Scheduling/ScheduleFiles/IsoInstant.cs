using NodaTime;
using NodaTime.Text;

namespace Djag.Scheduling.ScheduleFiles;

/// <summary>The ISO-8601 instants of schedule files and the CLI: an offset or "Z" is required, because a
/// local time names no instant.</summary>
public static class IsoInstant
{
    /// <summary>The first instant of year 1: NodaTime parses earlier years, PostgreSQL stores none before 4713 BC and cron needs none.</summary>
    public static readonly Instant Min = Instant.FromUtc(1, 1, 1, 0, 0);

    /// <summary>The last second of year 9999 (UTC).</summary>
    public static readonly Instant Max = Instant.FromUtc(9999, 12, 31, 23, 59, 59);

    public static bool TryParse(string? text, out Instant instant)
    {
        var result = OffsetDateTimePattern.ExtendedIso.Parse(text ?? "");
        instant = default;
        if (!result.Success)
        {
            return false;
        }

        try
        {
            instant = result.Value.ToInstant();
        }
        catch (OverflowException)
        {
            // A local time late in year 9999 with a negative offset is an instant after the last NodaTime has.
            return false;
        }

        return instant >= Min && instant <= Max;
    }

    /// <summary>UTC with "Z", e.g. "2026-03-29T01:00:00Z"; fractional seconds only when present.</summary>
    public static string Format(Instant instant) => InstantPattern.ExtendedIso.Format(instant);

    public const string Expected = "an ISO-8601 instant with an offset, e.g. 2026-03-29T00:00:00Z or 2026-03-29T02:00:00+02:00";
}
