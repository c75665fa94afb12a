namespace Djag.Persistence.Schedules;

/// <summary>
/// A cron schedule shared by periodic tasks: six cron fields (seconds first, default <c>0</c>)
/// evaluated in an IANA time zone.
/// </summary>
public sealed class Crontab
{
    public long Id { get; set; }
    public string Second { get; set; } = "0";
    public string Minute { get; set; } = "*";
    public string Hour { get; set; } = "*";
    public string DayOfMonth { get; set; } = "*";
    public string MonthOfYear { get; set; } = "*";
    public string DayOfWeek { get; set; } = "*";
    public string Timezone { get; set; } = "UTC";

    public List<PeriodicTask> Tasks { get; } = [];

    /// <summary>The six fields as one expression, seconds first.</summary>
    public string Expression => $"{Second} {Minute} {Hour} {DayOfMonth} {MonthOfYear} {DayOfWeek}";
}
