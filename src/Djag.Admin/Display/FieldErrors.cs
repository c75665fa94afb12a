using Djag.Persistence.Operations;
using Djag.Scheduling;
using Microsoft.AspNetCore.Mvc.ModelBinding;

namespace Djag.Admin.Display;

/// <summary>Puts the write path's errors beside the form fields they name.</summary>
public static class FieldErrors
{
    /// <summary>
    /// Adds each error under the form key <paramref name="keyOf"/> gives for its field path (the empty key:
    /// the summary at the top of the form).
    /// </summary>
    public static void AddTo(ModelStateDictionary state, IEnumerable<FieldError> errors, Func<string, string> keyOf)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(errors);
        ArgumentNullException.ThrowIfNull(keyOf);
        foreach (var error in errors)
        {
            state.AddModelError(keyOf(error.Field), error.Message);
        }
    }

    public static void AddTo(ModelStateDictionary state, OperationException error, Func<string, string> keyOf)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(error);
        ArgumentNullException.ThrowIfNull(keyOf);
        state.AddModelError(keyOf(error.Field), error.Message);
    }

    /// <summary>"grace_period" → "GracePeriod".</summary>
    public static string Pascal(string snake) =>
        string.Concat(snake.Split('_', StringSplitOptions.RemoveEmptyEntries).Select(w => char.ToUpperInvariant(w[0]) + w[1..]));

    /// <summary>The cron fields and time zone of a crontab, as the write path names them.</summary>
    public static readonly IReadOnlySet<string> CronFieldNames = new HashSet<string>(StringComparer.Ordinal)
    {
        "second", "minute", "hour", "day_of_month", "month_of_year", "day_of_week", "timezone",
    };
}
