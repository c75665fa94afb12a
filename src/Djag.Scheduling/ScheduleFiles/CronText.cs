namespace Djag.Scheduling.ScheduleFiles;

/// <summary>A cron expression as people write it (one string) plus a time zone, checked together.</summary>
public static class CronText
{
    private static readonly CronFields EveryDay = new("0", "0", "0", "*", "*", "*");

    /// <summary>
    /// Parses a 5- or 6-field expression and creates the schedule. Every problem is reported at once, with
    /// <see cref="FieldError.Field"/> "cron" (the message names the cron field, e.g. "minute: '61' is not a
    /// valid minute: ...") or "timezone".
    /// </summary>
    public static bool TryCreateSchedule(string expression, string timeZoneId, out CronSchedule? schedule, out IReadOnlyList<FieldError> errors)
    {
        var found = new List<FieldError>();
        if (!CronFields.TryParse(expression, out var fields, out var cronError))
        {
            found.Add(new FieldError("cron", cronError ?? $"'{expression}' is not a valid cron expression"));
        }

        // Without valid fields the zone is still checked, by the core, against an expression known to be
        // valid, so both mistakes are reported together.
        if (!CronSchedule.TryCreate(fields ?? EveryDay, timeZoneId, out schedule, out var scheduleErrors))
        {
            found.AddRange(scheduleErrors.Select(e => e.Field == "timezone" ? e : new FieldError("cron", $"{e.Field}: {e.Message}")));
        }

        if (fields is null || found.Count > 0)
        {
            schedule = null;
        }

        errors = found;
        return schedule is not null;
    }
}
