using System.Globalization;
using Djag.Scheduling;
using NodaTime;
using NodaTime.Text;
using NodaTime.TimeZones;

namespace Djag.Admin.Display;

/// <summary>One line of a crontab preview: a fire time, or a clock change between two fire times.</summary>
public sealed record PreviewRow(bool IsTransition, DateTimeOffset Utc, string Local, string Zone, string Note);

/// <summary>The next fire times of a crontab in its time zone, with the daylight-saving transitions between them marked.</summary>
public sealed record CronPreview(string Expression, string TimeZone, IReadOnlyList<FieldError> Errors, IReadOnlyList<PreviewRow> Rows)
{
    public const int DefaultCount = 10;
    public const int MaxCount = 50;

    private static readonly LocalDateTimePattern LocalPattern = LocalDateTimePattern.CreateWithInvariantCulture("yyyy-MM-dd HH:mm:ss");

    public static CronPreview Compute(CronFields fields, string timeZone, Instant from, int count = DefaultCount)
    {
        ArgumentNullException.ThrowIfNull(fields);
        if (!CronSchedule.TryCreate(fields, timeZone, out var schedule, out var errors))
        {
            return new CronPreview(fields.Expression, timeZone, errors, []);
        }

        var zone = DateTimeZoneProviders.Tzdb[timeZone];
        var rows = new List<PreviewRow>();
        var cursor = from;
        for (var i = 0; i < Math.Clamp(count, 1, MaxCount) && schedule!.NextAfter(cursor) is { } fire; i++)
        {
            // Clock changes in (previous fire, this fire]: each zone interval starting there is one.
            foreach (var interval in zone.GetZoneIntervals(new Interval(cursor, fire + Duration.Epsilon)).Skip(1))
            {
                rows.Add(Transition(zone, interval));
            }

            var local = fire.InZone(zone);
            var changed = rows.Count > 0 && rows[^1].IsTransition;
            rows.Add(new PreviewRow(false, fire.ToDateTimeOffset(), LocalPattern.Format(local.LocalDateTime),
                $"{local.Zone.GetZoneInterval(fire).Name} (UTC{FormatOffset(local.Offset)})",
                changed ? "first fire after the clock change" : ""));
            cursor = fire;
        }

        return new CronPreview(fields.Expression, timeZone, [], rows);
    }

    private static PreviewRow Transition(DateTimeZone zone, ZoneInterval interval)
    {
        var at = interval.Start;
        var before = zone.GetZoneInterval(at - Duration.Epsilon);
        var shift = interval.WallOffset - before.WallOffset;
        var direction = shift > Offset.Zero ? "forward" : "back";
        var hours = Math.Abs(shift.Seconds) / 3600.0;
        var note = $"DST: clocks go {direction} {hours.ToString("0.##", CultureInfo.InvariantCulture)} h, "
            + $"{LocalPattern.Format(at.WithOffset(before.WallOffset).LocalDateTime)} {before.Name} → "
            + $"{LocalPattern.Format(at.WithOffset(interval.WallOffset).LocalDateTime)} {interval.Name}";
        return new PreviewRow(true, at.ToDateTimeOffset(), LocalPattern.Format(at.WithOffset(interval.WallOffset).LocalDateTime),
            $"{interval.Name} (UTC{FormatOffset(interval.WallOffset)})", note);
    }

    private static string FormatOffset(Offset offset) => OffsetPattern.CreateWithInvariantCulture("+HH:mm").Format(offset);
}
