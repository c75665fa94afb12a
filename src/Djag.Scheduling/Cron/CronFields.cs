namespace Djag.Scheduling;

/// <summary>
/// The six fields of a cron expression, seconds first (Cronos <c>IncludeSeconds</c> format).
/// The seed's crontab has five fields; <see cref="TryParse"/> accepts both and fills the second with "0".
/// </summary>
public sealed record CronFields(string Second, string Minute, string Hour, string DayOfMonth, string MonthOfYear, string DayOfWeek)
{
    /// <summary>"sec min hour dom month dow", the form Cronos parses with <c>CronFormat.IncludeSeconds</c>.</summary>
    public string Expression => $"{Second} {Minute} {Hour} {DayOfMonth} {MonthOfYear} {DayOfWeek}";

    /// <summary>
    /// Splits an expression of 5 fields ("min hour dom month dow", second = "0") or 6 fields (seconds first)
    /// and checks the syntax of each field. On failure <paramref name="error"/> names the fields at fault,
    /// e.g. "hour: '25' is not a valid hour: ...". Time zones are checked by <see cref="CronSchedule.TryCreate"/>.
    /// </summary>
    public static bool TryParse(string expression, out CronFields? fields, out string? error)
    {
        fields = null;
        if (string.IsNullOrWhiteSpace(expression))
        {
            error = "the cron expression is empty";
            return false;
        }

        var parts = expression.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        CronFields candidate;
        switch (parts.Length)
        {
            case 5:
                candidate = new CronFields("0", parts[0], parts[1], parts[2], parts[3], parts[4]);
                break;
            case 6:
                candidate = new CronFields(parts[0], parts[1], parts[2], parts[3], parts[4], parts[5]);
                break;
            default:
                error = $"'{expression}' has {parts.Length} field{(parts.Length == 1 ? "" : "s")}; expected 5 (minute hour day_of_month month_of_year day_of_week) or 6 (second first)";
                return false;
        }

        var errors = CronFieldValidator.Validate(candidate);
        if (errors.Count > 0)
        {
            error = string.Join("; ", errors.Select(e => $"{e.Field}: {e.Message}"));
            return false;
        }

        fields = candidate;
        error = null;
        return true;
    }
}

/// <summary>One rejected part of a crontab. <see cref="Field"/> is the seed's snake_case name
/// ("second", "minute", "hour", "day_of_month", "month_of_year", "day_of_week" or "timezone").</summary>
public sealed record FieldError(string Field, string Message);
