using NodaTime;

namespace Djag.Scheduling.Tests.Cron;

public sealed class CronFieldsTests
{
    [Fact]
    public void Five_fields_get_second_zero()
    {
        Assert.True(CronFields.TryParse("*/5 2 * * mon-fri", out var fields, out var error));
        Assert.Null(error);
        Assert.Equal(new CronFields("0", "*/5", "2", "*", "*", "mon-fri"), fields);
        Assert.Equal("0 */5 2 * * mon-fri", fields!.Expression);
    }

    [Fact]
    public void Six_fields_are_seconds_first()
    {
        Assert.True(CronFields.TryParse("  15 0 12 1 jan *  ", out var fields, out _));
        Assert.Equal(new CronFields("15", "0", "12", "1", "jan", "*"), fields);
    }

    [Theory]
    [InlineData("")]
    [InlineData("* * * *")]
    [InlineData("* * * * * * *")]
    public void Wrong_field_count_is_rejected(string expression)
    {
        Assert.False(CronFields.TryParse(expression, out var fields, out var error));
        Assert.Null(fields);
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void TryParse_names_the_bad_field()
    {
        Assert.False(CronFields.TryParse("0 25 * * *", out _, out var error));
        Assert.StartsWith("hour: '25' is not a valid hour", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("61", "0", "*", "*", "*", "*", "second", "'61' is not a valid second")]
    [InlineData("0", "60", "*", "*", "*", "*", "minute", "'60' is not a valid minute")]
    [InlineData("0", "0", "25", "*", "*", "*", "hour", "'25' is not a valid hour")]
    [InlineData("0", "0", "*", "32", "*", "*", "day_of_month", "'32' is not a valid day of month")]
    [InlineData("0", "0", "*", "*", "13", "*", "month_of_year", "'13' is not a valid month")]
    [InlineData("0", "0", "*", "*", "*", "8", "day_of_week", "'8' is not a valid day of week")]
    [InlineData("0", "*/0", "*", "*", "*", "*", "minute", "'*/0' is not a valid minute")]
    [InlineData("0", "0", "x", "*", "*", "*", "hour", "'x' is not a valid hour")]
    [InlineData("0", "0", "*", "*", "foo", "*", "month_of_year", "'foo' is not a valid month")]
    [InlineData("0", "", "*", "*", "*", "*", "minute", "the minute field is empty")]
    [InlineData("0", "1 2", "*", "*", "*", "*", "minute", "'1 2' is not a valid minute")]
    [InlineData("0", "H", "*", "*", "*", "*", "minute", "'H' is not a valid minute: 'H' (a hashed value) is not supported")]
    [InlineData("0", "0", "H/5", "*", "*", "*", "hour", "'H/5' is not a valid hour")]
    public void Each_field_is_validated_on_its_own(string s, string m, string h, string dom, string mon, string dow, string field, string message)
    {
        var ok = CronSchedule.TryCreate(new CronFields(s, m, h, dom, mon, dow), "UTC", out var schedule, out var errors);

        Assert.False(ok);
        Assert.Null(schedule);
        var error = Assert.Single(errors);
        Assert.Equal(field, error.Field);
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_bad_field_and_the_zone_are_reported_at_once()
    {
        CronSchedule.TryCreate(new CronFields("0", "99", "25", "*", "*", "*"), "Mars/Olympus", out _, out var errors);

        Assert.Equal(["minute", "hour", "timezone"], errors.Select(e => e.Field));
        Assert.Equal("'Mars/Olympus' is not a known IANA time zone", errors[^1].Message);
    }

    [Theory]
    [InlineData("Mars/Olympus")]
    [InlineData("")]
    [InlineData("CET-ish")]
    public void Unknown_zone_is_rejected(string zone)
    {
        Assert.False(CronSchedule.TryCreate(new CronFields("0", "0", "*", "*", "*", "*"), zone, out _, out var errors));
        Assert.Equal("timezone", Assert.Single(errors).Field);
    }

    [Fact]
    public void Valid_schedule_exposes_fields_and_zone()
    {
        var fields = new CronFields("0", "30", "2", "*", "*", "*");
        Assert.True(CronSchedule.TryCreate(fields, "Europe/Berlin", out var schedule, out var errors));
        Assert.Empty(errors);
        Assert.Equal(fields, schedule!.Fields);
        Assert.Equal("Europe/Berlin", schedule.TimeZoneId);
    }

    [Fact]
    public void NextAfter_is_strictly_after()
    {
        var schedule = CronSchedule.Parse("*/15 * * * *");
        var onTheDot = Instant.FromUtc(2025, 1, 1, 10, 15);

        Assert.Equal(Instant.FromUtc(2025, 1, 1, 10, 30), schedule.NextAfter(onTheDot));
        Assert.Equal(onTheDot, schedule.NextAfter(onTheDot - Duration.FromNanoseconds(1)));
    }

    [Fact]
    public void Between_is_exclusive_then_inclusive()
    {
        var schedule = CronSchedule.Parse("*/15 * * * *");

        var events = schedule.Between(Instant.FromUtc(2025, 1, 1, 10, 0), Instant.FromUtc(2025, 1, 1, 11, 0)).ToList();

        Assert.Equal([10.25, 10.5, 10.75, 11.0], events.Select(e => (e - Instant.FromUtc(2025, 1, 1, 0, 0)).TotalHours));
    }

    [Fact]
    public void An_impossible_date_never_fires()
    {
        Assert.Null(CronSchedule.Parse("0 0 30 2 *").NextAfter(Instant.FromUtc(2025, 1, 1, 0, 0)));
    }

    [Fact]
    public void Schedule_is_evaluated_in_its_zone()
    {
        // 09:00 in Tokyo (UTC+9, no DST) is 00:00Z.
        var schedule = CronSchedule.Parse("0 9 * * *", "Asia/Tokyo");

        Assert.Equal(Instant.FromUtc(2025, 6, 2, 0, 0), schedule.NextAfter(Instant.FromUtc(2025, 6, 1, 1, 0)));
    }
}
