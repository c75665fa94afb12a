using System.Globalization;
using Djag.Persistence.Schedules;
using Djag.Scheduling;

namespace Djag.Bench.Infrastructure;

/// <summary>Builds the bench's schedules: no-op tasks (<c>djag.echo</c>) on crons that fire at a chosen second.</summary>
internal static class Schedules
{
    /// <summary>How long a set of <paramref name="count"/> runs may take after its cron second before the bench gives up on it.</summary>
    public static TimeSpan TimeLimit(int count) => TimeSpan.FromSeconds(60 + (count * 0.05));

    /// <summary>Waits until <paramref name="when"/> by the wall clock; at once when it has passed.</summary>
    public static Task DelayUntilAsync(DateTimeOffset when, CancellationToken ct) =>
        when - TimeProvider.System.GetUtcNow() is { Ticks: > 0 } wait ? Task.Delay(wait, ct) : Task.CompletedTask;

    /// <summary>Fires once a day at the second of <paramref name="at"/> (UTC): once within any bench run.</summary>
    public static CrontabSpec DailyAt(DateTimeOffset at) =>
        Spec(string.Create(CultureInfo.InvariantCulture, $"{at.Second} {at.Minute} {at.Hour} * * *"));

    public static CrontabSpec Spec(string expression) =>
        CronFields.TryParse(expression, out var fields, out var error)
            ? new CrontabSpec(fields!, "UTC")
            : throw new ArgumentException(error, nameof(expression));

    public static TaskEdit Echo(string name, CrontabSpec crontab) => new() { Name = name, Task = "djag.echo", Crontab = crontab };

    /// <summary>Names sort in creation order and share the prefix the ledger queries select by.</summary>
    public static string Name(string prefix, int index) => string.Create(CultureInfo.InvariantCulture, $"{prefix}{index:D6}");

    /// <summary>The next whole second at least <paramref name="ahead"/> from now.</summary>
    public static DateTimeOffset WholeSecondAfter(TimeSpan ahead)
    {
        var t = TimeProvider.System.GetUtcNow() + ahead;
        return new DateTimeOffset(t.Ticks - (t.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero).AddSeconds(1);
    }
}
