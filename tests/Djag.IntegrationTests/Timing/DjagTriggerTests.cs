using Djag.Beat.Timing;
using Djag.Scheduling;
using Microsoft.Extensions.Time.Testing;
using NodaTime;

namespace Djag.IntegrationTests.Timing;

/// <summary>The trigger alone, with a fake clock: no database, no scheduler.</summary>
public sealed class DjagTriggerTests
{
    private static Instant Utc(int year, int month, int day, int hour, int minute, int second = 0) =>
        Instant.FromUtc(year, month, day, hour, minute, second);

    private static List<DateTimeOffset> FireSequence(DjagTrigger trigger, int count)
    {
        var fires = new List<DateTimeOffset>();
        var first = trigger.ComputeFirstFireTimeUtc(null);
        Assert.Equal(first, trigger.NextFireTimeUtc);
        while (fires.Count < count && trigger.NextFireTimeUtc is { } next)
        {
            fires.Add(next);
            trigger.Triggered(null);
            Assert.Equal(next, trigger.PreviousFireTimeUtc);
        }

        return fires;
    }

    [Fact]
    public void Fire_times_follow_the_core_through_the_Berlin_fall_back()
    {
        // Europe/Berlin, 2025-10-26: at 03:00 CEST the clocks go back to 02:00 CET.
        //   UTC   23:00 ─ 23:30 ─ 00:00 ─ 00:30 ─ 01:00 ─ 01:30 ─ 02:00 ─ 02:30
        //   wall  01:00   01:30   02:00   02:30   02:00   02:30   03:00   03:30
        //                 fire            fire            fire            fire   ("0 30 * * * *": both passes)
        var clock = new FakeTimeProvider(Utc(2025, 10, 25, 12, 0).ToDateTimeOffset());
        var timing = TimingHarness.Timing("dst", "0 30 * * * *", Utc(2025, 10, 25, 23, 0), "Europe/Berlin");
        var trigger = TaskTimer.BuildTrigger(timing, clock);

        var fires = FireSequence(trigger, 4);

        DateTimeOffset[] expected =
        [
            Utc(2025, 10, 25, 23, 30).ToDateTimeOffset(), Utc(2025, 10, 26, 0, 30).ToDateTimeOffset(),
            Utc(2025, 10, 26, 1, 30).ToDateTimeOffset(), Utc(2025, 10, 26, 2, 30).ToDateTimeOffset(),
        ];
        Assert.Equal(expected, fires);
        Assert.Equal(timing.Schedule.Between(timing.StartAfter, Utc(2025, 10, 26, 2, 30)).Select(i => i.ToDateTimeOffset()), fires);
        Assert.Null(trigger.FinalFireTimeUtc);
        Assert.True(trigger.MayFireAgain);
    }

    [Fact]
    public void Fire_times_follow_the_core_through_the_Berlin_spring_forward()
    {
        // Europe/Berlin, 2025-03-30: 02:00 CET jumps to 03:00 CEST, so 02:30 does not exist that night.
        //   03-29 02:30 CET  = 01:30Z   fire
        //   03-30 02:30 gap  → 03:00 CEST = 01:00Z   fire, shifted forward once
        //   03-31 02:30 CEST = 00:30Z   fire
        var clock = new FakeTimeProvider(Utc(2025, 3, 1, 0, 0).ToDateTimeOffset());
        var timing = TimingHarness.Timing("gap", "0 30 2 * * *", Utc(2025, 3, 29, 0, 0), "Europe/Berlin");
        var trigger = TaskTimer.BuildTrigger(timing, clock);

        var fires = FireSequence(trigger, 3);

        Assert.Equal(
            [Utc(2025, 3, 29, 1, 30).ToDateTimeOffset(), Utc(2025, 3, 30, 1, 0).ToDateTimeOffset(), Utc(2025, 3, 31, 0, 30).ToDateTimeOffset()],
            fires);
        foreach (var fire in fires)
        {
            var instant = Instant.FromDateTimeOffset(fire);
            Assert.Equal(timing.Schedule.NextAfter(instant)?.ToDateTimeOffset(), trigger.GetFireTimeAfter(fire));
        }
    }

    [Fact]
    public void The_first_fire_is_strictly_after_the_pointer_even_in_the_past()
    {
        // Quartz's own cron trigger would move a past first fire time to the future and so lose events;
        // this one keeps it, and the misfire path fires it once now.
        var clock = new FakeTimeProvider(Utc(2026, 3, 1, 12, 0).ToDateTimeOffset());
        var pointer = Utc(2026, 3, 1, 9, 0);
        var trigger = TaskTimer.BuildTrigger(TimingHarness.Timing("t", "0 0 * * * *", pointer), clock);

        Assert.Equal(Utc(2026, 3, 1, 10, 0).ToDateTimeOffset(), trigger.ComputeFirstFireTimeUtc(null));
    }

    [Fact]
    public void A_misfire_fires_once_now_and_then_continues_on_the_cron()
    {
        // cron every minute, pointer 11:00; the beat was down until 12:00:07.5
        //   11:01 11:02 … 12:00 (60 late events)  │ now 12:00:07.5 │ 12:01
        //   Quartz fires once, now ─────────────────┘                 └─ then the cron again
        var clock = new FakeTimeProvider(Utc(2026, 3, 1, 12, 0, 7).ToDateTimeOffset().AddMilliseconds(500));
        var trigger = TaskTimer.BuildTrigger(TimingHarness.Timing("late", "0 * * * * *", Utc(2026, 3, 1, 11, 0)), clock);
        trigger.ComputeFirstFireTimeUtc(null);
        Assert.Equal(Utc(2026, 3, 1, 11, 1).ToDateTimeOffset(), trigger.NextFireTimeUtc);

        trigger.UpdateAfterMisfire(null);

        Assert.Equal(clock.GetUtcNow(), trigger.NextFireTimeUtc);
        trigger.Triggered(null);
        Assert.Equal(clock.GetUtcNow(), trigger.PreviousFireTimeUtc);
        Assert.Equal(Utc(2026, 3, 1, 12, 1).ToDateTimeOffset(), trigger.NextFireTimeUtc);
        clock.Advance(TimeSpan.FromMinutes(1));
        trigger.Triggered(null);
        Assert.Equal(Utc(2026, 3, 1, 12, 2).ToDateTimeOffset(), trigger.NextFireTimeUtc);
    }

    [Fact]
    public void Only_the_fire_now_misfire_behaviour_is_accepted()
    {
        var trigger = TaskTimer.BuildTrigger(TimingHarness.Timing("t", "* * * * * *", Utc(2026, 1, 1, 0, 0)), TimeProvider.System);

        Assert.Throws<ArgumentException>(() => trigger.MisfireInstructionCode = 2);
        trigger.Validate();
    }

    [Fact]
    public void The_schedule_builder_rebuilds_an_equal_trigger()
    {
        var clock = new FakeTimeProvider();
        var timing = TimingHarness.Timing("t", "0 15 3 * * 1-5", Utc(2026, 1, 1, 0, 0), "America/New_York", MisfirePolicy.Coalesce, 90);
        var trigger = TaskTimer.BuildTrigger(timing, clock);

        var copy = (DjagTrigger)trigger.GetScheduleBuilder().Build();

        Assert.Equal("0 15 3 * * 1-5", copy.CronExpression);
        Assert.Equal("America/New_York", copy.TimeZoneId);
        Assert.Equal(timing.StartAfter, copy.StartAfter);
        Assert.Equal(MisfirePolicy.Coalesce, copy.Misfire);
        Assert.Equal(Duration.FromSeconds(90), copy.GracePeriod);
    }
}
