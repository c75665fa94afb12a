using System.CommandLine;
using Djag.Scheduling.ScheduleFiles;
using NodaTime;
using NodaTime.Text;

namespace Djag.Cli.Cron;

/// <summary><c>djag cron next</c>: the next occurrences of an expression, by the core's DST rule.</summary>
internal static class CronCommand
{
    private const int MaxCount = 10_000;

    // Wall time with the offset in force, so both passes of a fall-back hour are told apart.
    private static readonly OffsetDateTimePattern WithOffset = OffsetDateTimePattern.CreateWithInvariantCulture("uuuu'-'MM'-'dd'T'HH':'mm':'ss;FFFFFFFFFo<+HH:mm>");

    public static Command Build(CliConsole console)
    {
        var expression = new Argument<string>("expression")
        {
            Description = "5 fields (minute hour day_of_month month_of_year day_of_week) or 6 with seconds first; quote it.",
        };
        var zone = new Option<string>("--tz")
        {
            Description = "IANA time zone the expression is evaluated in.",
            DefaultValueFactory = _ => "UTC",
        };
        var from = new Option<string?>("--from")
        {
            Description = "Start after this ISO-8601 instant (e.g. 2026-03-28T00:00:00Z); default: now.",
        };
        var count = new Option<int>("-n", "--count")
        {
            Description = $"How many occurrences to print (1-{MaxCount}).",
            DefaultValueFactory = _ => 5,
        };

        var next = new Command("next", """
            Print the next occurrences, one per line, as ISO-8601 wall time with the zone's offset.
            Daylight saving time: a time in a spring-forward gap fires once, at the end of the gap; a fixed
            time repeated at fall-back fires once (first pass); a step or * in the hour fires in both passes.
            """)
        {
            expression,
            zone,
            from,
            count,
        };
        next.SetAction(parseResult => Next(
            console,
            parseResult.GetRequiredValue(expression),
            parseResult.GetValue(zone) ?? "UTC",
            parseResult.GetValue(from),
            parseResult.GetValue(count)));

        return new Command("cron", "Inspect cron expressions.") { next };
    }

    internal static int Next(CliConsole console, string expression, string timeZone, string? from, int count)
    {
        if (count is < 1 or > MaxCount)
        {
            return console.BadInput($"-n: must be between 1 and {MaxCount}, found {count}");
        }

        Instant start;
        if (from is null)
        {
            start = Instant.FromDateTimeOffset(console.Time.GetUtcNow());
        }
        else if (!IsoInstant.TryParse(from, out start))
        {
            return console.BadInput($"--from: '{from}' is not {IsoInstant.Expected}");
        }

        if (!CronText.TryCreateSchedule(expression, timeZone, out var schedule, out var errors))
        {
            foreach (var error in errors)
            {
                console.Error.WriteLine($"error: {(error.Field == "timezone" ? "--tz" : "cron")}: {error.Message}");
            }

            return ExitCodes.BadInput;
        }

        var zone = DateTimeZoneProviders.Tzdb[schedule!.TimeZoneId];
        var printed = 0;
        foreach (var occurrence in schedule.Between(start, Instant.MaxValue).Take(count))
        {
            console.Out.WriteLine(WithOffset.Format(occurrence.InZone(zone).ToOffsetDateTime()));
            printed++;
        }

        if (printed < count)
        {
            console.Error.WriteLine($"note: the expression has only {printed} more occurrence(s)");
        }

        return ExitCodes.Ok;
    }
}
