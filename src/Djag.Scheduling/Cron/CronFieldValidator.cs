using Cronos;

namespace Djag.Scheduling;

/// <summary>
/// Cronos reports one error for a whole expression; to name the field at fault each field is parsed
/// alone, inside an expression whose other fields match everything.
/// </summary>
internal static class CronFieldValidator
{
    /// <summary>The longest field a crontab stores (the columns of the crontabs table).</summary>
    public const int MaxFieldLength = 200;

    private static readonly (string Field, string Noun)[] Names =
    [
        ("second", "second"),
        ("minute", "minute"),
        ("hour", "hour"),
        ("day_of_month", "day of month"),
        ("month_of_year", "month"),
        ("day_of_week", "day of week"),
    ];

    public static IReadOnlyList<FieldError> Validate(CronFields fields)
    {
        string[] values = [fields.Second, fields.Minute, fields.Hour, fields.DayOfMonth, fields.MonthOfYear, fields.DayOfWeek];
        var errors = new List<FieldError>();
        for (var i = 0; i < values.Length; i++)
        {
            var (field, noun) = Names[i];
            var value = values[i];
            if (string.IsNullOrWhiteSpace(value))
            {
                errors.Add(new FieldError(field, $"the {noun} field is empty"));
                continue;
            }

            if (value.Length > MaxFieldLength)
            {
                errors.Add(new FieldError(field, $"'{value[..20]}...' is not a valid {noun}: the field is {value.Length} characters long; at most {MaxFieldLength} are allowed"));
                continue;
            }

            if (value.Any(char.IsWhiteSpace))
            {
                errors.Add(new FieldError(field, $"'{value}' is not a valid {noun}: a field must not contain spaces"));
                continue;
            }

            string[] probe = ["0", "*", "*", "*", "*", "*"];
            probe[i] = value;
            try
            {
                CronExpression.Parse(string.Join(' ', probe), CronFormat.IncludeSeconds);
            }
            catch (CronFormatException ex)
            {
                errors.Add(new FieldError(field, $"'{value}' is not a valid {noun}: {ex.Message}"));
            }
            catch (MissingSeedException)
            {
                errors.Add(new FieldError(field, $"'{value}' is not a valid {noun}: 'H' (a hashed value) is not supported; write the value itself"));
            }
        }

        if (errors.Count == 0)
        {
            // Each field may be valid alone and the combination still rejected (e.g. '?' in both day fields).
            try
            {
                CronExpression.Parse(fields.Expression, CronFormat.IncludeSeconds);
            }
            catch (Exception ex) when (ex is CronFormatException or MissingSeedException)
            {
                errors.Add(new FieldError("day_of_week", $"'{fields.Expression}' is not a valid expression: {ex.Message}"));
            }
        }

        return errors;
    }
}
