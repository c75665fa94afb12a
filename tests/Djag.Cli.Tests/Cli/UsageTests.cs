namespace Djag.Cli.Tests.Cli;

/// <summary>Flags the parser refuses: exit 2 before any database or server is asked.</summary>
public sealed class UsageTests
{
    [Theory]
    [InlineData("export", "--format", "xml")]
    [InlineData("dag", "--format", "png")]
    [InlineData("tasks", "list", "--format", "csv")]
    [InlineData("tasks", "list", "--enabled", "maybe")]
    [InlineData("runs", "list", "--limit", "many")]
    [InlineData("tasks", "show")]
    [InlineData("backfill", "extract", "--to", "2026-03-01T00:00:00Z")]
    [InlineData("retry", "first")]
    [InlineData("users", "add", "alice", "--role", "root")]
    [InlineData("tokens", "create", "ci", "--server", "http://localhost/")]
    public async Task A_bad_flag_or_argument_exits_2_with_usage(params string[] args)
    {
        var run = await DjagRunner.Run(args);

        Assert.Equal(ExitCodes.BadInput, run.ExitCode);
        Assert.StartsWith("error: ", run.Error, StringComparison.Ordinal);
        Assert.EndsWith("Run 'djag --help' (or 'djag COMMAND --help') for usage.\n", run.Error, StringComparison.Ordinal);
        Assert.Equal("", run.Out);
    }

    [Fact]
    public async Task Every_command_is_listed_in_the_help()
    {
        var run = await DjagRunner.Run("--help");

        Assert.Equal(0, run.ExitCode);
        foreach (var command in new[] { "apply", "export", "tasks", "runs", "why", "dag", "run-now", "pause", "resume", "backfill", "retry", "users", "tokens", "simulate", "cron" })
        {
            Assert.Contains($"\n  {command} ", run.Out, StringComparison.Ordinal);
        }
    }
}
