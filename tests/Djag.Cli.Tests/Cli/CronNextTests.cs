namespace Djag.Cli.Tests.Cli;

public sealed class CronNextTests
{
    // Europe/Berlin, spring forward on 2026-03-29: 02:00 CET -> 03:00 CEST.
    //   28th 02:30 +01:00 | 29th 02:30 does not exist -> 03:00 +02:00 (once) | 30th 02:30 +02:00
    [Fact]
    public async Task A_fixed_time_in_the_spring_gap_fires_once_at_the_end_of_the_gap()
    {
        var run = await DjagRunner.Run("cron", "next", "30 2 * * *", "--tz", "Europe/Berlin", "--from", "2026-03-28T00:00:00Z", "-n", "3");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(["2026-03-28T02:30:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"], run.Lines);
        Assert.Equal("", run.Error);
    }

    // Fall back on 2026-10-25: 03:00 CEST -> 02:00 CET; the hour 02:00-03:00 happens twice.
    //   fixed 02:30: first pass only | every hour: 02:00 +02:00 and 02:00 +01:00
    [Fact]
    public async Task At_fall_back_a_fixed_time_fires_once_and_an_hourly_expression_twice()
    {
        var fixedTime = await DjagRunner.Run("cron", "next", "30 2 * * *", "--tz", "Europe/Berlin", "--from", "2026-10-24T12:00:00Z", "-n", "2");
        var hourly = await DjagRunner.Run("cron", "next", "0 */1 * * *", "--tz", "Europe/Berlin", "--from", "2026-10-24T23:30:00Z", "--count", "4");

        Assert.Equal(["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"], fixedTime.Lines);
        Assert.Equal(["2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00", "2026-10-25T03:00:00+01:00", "2026-10-25T04:00:00+01:00"], hourly.Lines);
    }

    [Fact]
    public async Task Defaults_are_five_occurrences_in_utc_after_now()
    {
        var run = await DjagRunner.Run("cron", "next", "*/20 * * * * *");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(
            ["2030-01-01T12:00:20+00:00", "2030-01-01T12:00:40+00:00", "2030-01-01T12:01:00+00:00", "2030-01-01T12:01:20+00:00", "2030-01-01T12:01:40+00:00"],
            run.Lines);
    }

    [Fact]
    public async Task An_expression_with_fewer_occurrences_prints_what_there_is_and_says_so()
    {
        var run = await DjagRunner.Run("cron", "next", "0 0 30 2 *", "-n", "2");

        Assert.Equal(0, run.ExitCode);
        Assert.Empty(run.Lines);
        Assert.Contains("only 0 more occurrence", run.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "cron", "next", "61 * * * *" }, "error: cron: minute: '61' is not a valid minute")]
    [InlineData(new[] { "cron", "next", "* * *" }, "error: cron: '* * *' has 3 fields")]
    [InlineData(new[] { "cron", "next", "0 * * * *", "--tz", "Mars/Base" }, "error: --tz: 'Mars/Base' is not a known IANA time zone")]
    [InlineData(new[] { "cron", "next", "0 * * * *", "--from", "yesterday" }, "error: --from: 'yesterday' is not an ISO-8601 instant")]
    [InlineData(new[] { "cron", "next", "0 * * * *", "--from", "2026-03-28T00:00:00" }, "error: --from:")]
    [InlineData(new[] { "cron", "next", "0 * * * *", "-n", "0" }, "error: -n: must be between 1 and 10000, found 0")]
    [InlineData(new[] { "cron", "next", "0 * * * *", "-n", "many" }, "error: ")]
    [InlineData(new[] { "cron", "next" }, "error: ")]
    [InlineData(new[] { "cron" }, "error: ")]
    [InlineData(new[] { "frobnicate" }, "error: ")]
    public async Task Bad_input_exits_2_and_names_what_is_wrong(string[] args, string expected)
    {
        var run = await DjagRunner.Run(args);

        Assert.Equal(2, run.ExitCode);
        Assert.Equal("", run.Out);
        Assert.StartsWith(expected, run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_expression_and_a_bad_zone_are_both_reported()
    {
        var run = await DjagRunner.Run("cron", "next", "61 * * * *", "--tz", "Mars/Base");

        Assert.Equal(2, run.ExitCode);
        Assert.Equal(
            ["error: cron: minute: '61' is not a valid minute", "error: --tz: 'Mars/Base' is not a known IANA time zone"],
            run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(": The")[0]));
    }

    [Fact]
    public async Task Help_lists_the_commands_and_exits_0()
    {
        var root = await DjagRunner.Run("--help");
        var simulate = await DjagRunner.Run("simulate", "--help");

        Assert.Equal(0, root.ExitCode);
        Assert.Contains("simulate", root.Out, StringComparison.Ordinal);
        Assert.Contains("cron", root.Out, StringComparison.Ordinal);
        Assert.Equal(0, simulate.ExitCode);
        Assert.Contains("runs for 0 s and always succeeds", simulate.Out, StringComparison.Ordinal);
    }
}
