using Cronos;
using NodaTime;

namespace Djag.Scheduling;

/// <summary>
/// A validated cron expression evaluated in an IANA time zone: the source of a task's cron events
/// (semantics.md section 2).
/// </summary>
/// <remarks>
/// <para>Daylight saving time follows Cronos:</para>
/// <list type="bullet">
/// <item>Spring forward (a gap): an occurrence whose wall time does not exist fires once, at the first
/// instant after the gap. Europe/Berlin 2025-03-30: "0 30 2 * * *" fires at 03:00 CEST (01:00Z);
/// "0 */30 * * * *" fires at 01:30 CET, 03:00 CEST, 03:30 CEST (02:00 and 02:30 collapse into 03:00).</item>
/// <item>Fall back (an overlap): a fixed wall time fires once, at its first occurrence (the daylight one).
/// Europe/Berlin 2025-10-26: "0 30 2 * * *" fires at 02:30 CEST (00:30Z) only. An expression with a step, a
/// range or <c>*</c> in the hour field (or finer fields only) fires in both passes:
/// "0 30 * * * *" fires at 02:30 CEST (00:30Z) and again at 02:30 CET (01:30Z).</item>
/// </list>
/// </remarks>
public sealed class CronSchedule
{
    private readonly CronExpression _expression;
    private readonly TimeZoneInfo _zone;

    private CronSchedule(CronFields fields, string timeZoneId, CronExpression expression, TimeZoneInfo zone)
    {
        Fields = fields;
        TimeZoneId = timeZoneId;
        _expression = expression;
        _zone = zone;
    }

    public CronFields Fields { get; }

    /// <summary>The IANA id, e.g. "Europe/Berlin".</summary>
    public string TimeZoneId { get; }

    /// <summary>
    /// Validates each field separately and the time zone, reporting every fault at once; each error names
    /// its field and quotes the bad value.
    /// </summary>
    public static bool TryCreate(CronFields fields, string timeZoneId, out CronSchedule? schedule, out IReadOnlyList<FieldError> errors)
    {
        ArgumentNullException.ThrowIfNull(fields);
        schedule = null;
        var found = new List<FieldError>(CronFieldValidator.Validate(fields));

        var zone = FindZone(timeZoneId);
        if (zone is null)
        {
            found.Add(new FieldError("timezone", $"'{timeZoneId}' is not a known IANA time zone"));
        }

        if (found.Count > 0 || zone is null)
        {
            errors = found;
            return false;
        }

        schedule = new CronSchedule(fields, timeZoneId, CronExpression.Parse(fields.Expression, CronFormat.IncludeSeconds), zone);
        errors = [];
        return true;
    }

    /// <summary>Like <see cref="TryCreate"/> but throws <see cref="ArgumentException"/> listing the errors.</summary>
    public static CronSchedule Create(CronFields fields, string timeZoneId) =>
        TryCreate(fields, timeZoneId, out var schedule, out var errors)
            ? schedule!
            : throw new ArgumentException(string.Join("; ", errors.Select(e => $"{e.Field}: {e.Message}")), nameof(fields));

    /// <summary>Parses a 5- or 6-field expression (see <see cref="CronFields.TryParse"/>) and creates the schedule; throws on any error.</summary>
    public static CronSchedule Parse(string expression, string timeZoneId = "UTC") =>
        CronFields.TryParse(expression, out var fields, out var error)
            ? Create(fields!, timeZoneId)
            : throw new ArgumentException(error, nameof(expression));

    /// <summary>The first occurrence strictly after <paramref name="after"/>, or null when there is none
    /// (an expression that never matches, e.g. 30 February, or beyond the years Cronos supports).</summary>
    public Instant? NextAfter(Instant after)
    {
        if (after < MinSupported)
        {
            after = MinSupported;
        }
        else if (after >= MaxSupported)
        {
            return null;
        }

        var next = _expression.GetNextOccurrence(after.ToDateTimeUtc(), _zone, inclusive: false);
        return next is { } utc ? Instant.FromDateTimeUtc(DateTime.SpecifyKind(utc, DateTimeKind.Utc)) : null;
    }

    /// <summary>Occurrences in (<paramref name="afterExclusive"/>, <paramref name="toInclusive"/>], in order, lazily.</summary>
    public IEnumerable<Instant> Between(Instant afterExclusive, Instant toInclusive)
    {
        var cursor = afterExclusive;
        while (NextAfter(cursor) is { } next && next <= toInclusive)
        {
            yield return next;
            cursor = next;
        }
    }

    public override string ToString() => $"{Fields.Expression} ({TimeZoneId})";

    private static readonly Instant MinSupported = Instant.FromUtc(1, 1, 1, 0, 0);
    private static readonly Instant MaxSupported = Instant.FromUtc(9999, 1, 1, 0, 0);

    private static TimeZoneInfo? FindZone(string? timeZoneId)
    {
        if (string.IsNullOrWhiteSpace(timeZoneId) || DateTimeZoneProviders.Tzdb.GetZoneOrNull(timeZoneId) is null)
        {
            return null;
        }

        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(timeZoneId);
        }
        catch (TimeZoneNotFoundException)
        {
            return null;
        }
        catch (InvalidTimeZoneException)
        {
            return null;
        }
    }
}
