using NodaTime;

namespace Djag.Scheduling.Tests.Cron;

/// <summary>The DST rule of <see cref="CronSchedule"/>, shown on real dates of two zones.</summary>
public sealed class CronDstTests
{
    private static List<Instant> Fires(string cron, string zone, Instant from, Instant to) =>
        CronSchedule.Parse(cron, zone).Between(from, to).ToList();

    private static Instant Z(int year, int month, int day, int hour, int minute) => Instant.FromUtc(year, month, day, hour, minute);

    [Fact]
    public void Berlin_spring_forward_fixed_time_fires_once_shifted_forward()
    {
        // 2025-03-30 02:00 CET -> 03:00 CEST: 02:30 does not exist, fires at 03:00 CEST = 01:00Z.
        // The day before and after it fires at 02:30 local as usual.
        var fires = Fires("30 2 * * *", "Europe/Berlin", Z(2025, 3, 29, 0, 0), Z(2025, 3, 31, 12, 0));

        Assert.Equal(
            [
                Z(2025, 3, 29, 1, 30), // 02:30 CET
                Z(2025, 3, 30, 1, 0),  // 03:00 CEST (shifted out of the gap)
                Z(2025, 3, 31, 0, 30), // 02:30 CEST
            ],
            fires);
    }

    [Fact]
    public void Berlin_spring_forward_stepped_expression_fires_once_for_the_gap()
    {
        // 01:30 CET (00:30Z) | 02:00, 02:30 do not exist -> one fire at 03:00 CEST (01:00Z) | 03:30 CEST (01:30Z)
        var fires = Fires("*/30 * * * *", "Europe/Berlin", Z(2025, 3, 30, 0, 0), Z(2025, 3, 30, 1, 30));

        Assert.Equal([Z(2025, 3, 30, 0, 30), Z(2025, 3, 30, 1, 0), Z(2025, 3, 30, 1, 30)], fires);
    }

    [Fact]
    public void Berlin_fall_back_fixed_time_fires_once_at_first_occurrence()
    {
        // 2025-10-26 03:00 CEST -> 02:00 CET: 02:30 happens twice,
        // at 02:30 CEST = 00:30Z (fires) and 02:30 CET = 01:30Z (does not).
        var fires = Fires("30 2 * * *", "Europe/Berlin", Z(2025, 10, 25, 12, 0), Z(2025, 10, 27, 0, 0));

        Assert.Equal([Z(2025, 10, 26, 0, 30)], fires);
    }

    [Fact]
    public void Berlin_fall_back_stepped_expression_fires_in_both_passes()
    {
        // 02:30 CEST = 00:30Z fires, 03:00 CEST -> 02:00 CET, 02:30 CET = 01:30Z fires again, 03:30 CET = 02:30Z.
        var fires = Fires("30 * * * *", "Europe/Berlin", Z(2025, 10, 26, 0, 0), Z(2025, 10, 26, 2, 30));

        Assert.Equal([Z(2025, 10, 26, 0, 30), Z(2025, 10, 26, 1, 30), Z(2025, 10, 26, 2, 30)], fires);
    }

    [Fact]
    public void New_York_spring_forward_fixed_time_fires_once_shifted_forward()
    {
        // 2025-03-09 02:00 EST -> 03:00 EDT: 02:30 does not exist, fires at 03:00 EDT = 07:00Z.
        var fires = Fires("30 2 * * *", "America/New_York", Z(2025, 3, 8, 12, 0), Z(2025, 3, 10, 12, 0));

        Assert.Equal(
            [
                Z(2025, 3, 9, 7, 0),   // 03:00 EDT (shifted out of the gap)
                Z(2025, 3, 10, 6, 30), // 02:30 EDT
            ],
            fires);
    }

    [Fact]
    public void New_York_spring_forward_stepped_expression_skips_the_missing_hour()
    {
        // 01:30 EST (06:30Z) | 02:00, 02:30 do not exist -> one fire at 03:00 EDT (07:00Z) | 03:30 EDT (07:30Z)
        var fires = Fires("*/30 * * * *", "America/New_York", Z(2025, 3, 9, 6, 0), Z(2025, 3, 9, 7, 30));

        Assert.Equal([Z(2025, 3, 9, 6, 30), Z(2025, 3, 9, 7, 0), Z(2025, 3, 9, 7, 30)], fires);
    }

    [Fact]
    public void New_York_fall_back_fixed_time_fires_once_at_first_occurrence()
    {
        // 2025-11-02 02:00 EDT -> 01:00 EST: 01:30 happens at 05:30Z (EDT, fires) and 06:30Z (EST, does not).
        var fires = Fires("30 1 * * *", "America/New_York", Z(2025, 11, 1, 12, 0), Z(2025, 11, 3, 0, 0));

        Assert.Equal([Z(2025, 11, 2, 5, 30)], fires);
    }

    [Fact]
    public void New_York_fall_back_stepped_expression_fires_in_both_passes()
    {
        // 01:30 EDT = 05:30Z fires, 02:00 EDT -> 01:00 EST, 01:30 EST = 06:30Z fires again, 02:30 EST = 07:30Z.
        var fires = Fires("30 */1 * * *", "America/New_York", Z(2025, 11, 2, 5, 0), Z(2025, 11, 2, 7, 30));

        Assert.Equal([Z(2025, 11, 2, 5, 30), Z(2025, 11, 2, 6, 30), Z(2025, 11, 2, 7, 30)], fires);
    }
}
