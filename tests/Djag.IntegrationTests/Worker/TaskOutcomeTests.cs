using System.Text.RegularExpressions;
using Djag.Contracts;
using Djag.Worker;
using Microsoft.Extensions.DependencyInjection;

namespace Djag.IntegrationTests.Worker;

/// <summary>What a run's report says for each way a task can end, with an in-process worker.</summary>
public sealed partial class TaskOutcomeTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Unknown_task_fails_naming_it_and_the_registered_tasks()
    {
        await using var beat = await FakeBeat.StartAsync();
        await using var worker = await InProcessWorker.StartAsync(beat.Url, tasks => tasks.AddTask("etl.extract", _ => Task.CompletedTask));

        await beat.PublishAsync(FakeBeat.Run(1, "etl.nope"));
        var report = await beat.WaitForFinishedAsync(1, Wait);

        Assert.Equal(RunReportOutcomes.Failure, report.Outcome);
        Assert.Equal("unknown task 'etl.nope' (registered: djag.echo, djag.http, djag.shell, djag.sleep, etl.extract)", report.Error);
        Assert.Equal(worker.Id, report.Worker);
        await AssertAckedAsync(beat);
    }

    [Fact]
    public async Task Arguments_that_do_not_bind_fail_naming_the_argument()
    {
        await using var beat = await FakeBeat.StartAsync();
        await using var worker = await InProcessWorker.StartAsync(beat.Url);

        await beat.PublishAsync(FakeBeat.Run(1, "djag.sleep", kwargs: """{"seconds": "abc"}"""));
        await beat.PublishAsync(FakeBeat.Run(2, "djag.sleep"));
        await beat.PublishAsync(FakeBeat.Run(3, "djag.shell", kwargs: """{"program": "true", "arg": ["-x"]}"""));
        await beat.PublishAsync(FakeBeat.Run(4, "djag.shell", kwargs: """{"program": "env", "env": {"A": 1}}"""));

        Assert.Equal("argument 'seconds': expected a number, got \"abc\"", (await beat.WaitForFinishedAsync(1, Wait)).Error);
        Assert.Equal("argument 'seconds' is required but missing", (await beat.WaitForFinishedAsync(2, Wait)).Error);
        Assert.Equal("argument 'arg' is not known (known: program, args, cwd, env)", (await beat.WaitForFinishedAsync(3, Wait)).Error);
        Assert.Equal("argument 'env.A': expected a string, got 1", (await beat.WaitForFinishedAsync(4, Wait)).Error);
        Assert.All(beat.Reports.Values, r => Assert.Equal(RunReportOutcomes.Failure, r.Outcome));
        await AssertAckedAsync(beat);
    }

    [Fact]
    public async Task Task_that_throws_fails_with_the_exception_type_and_message()
    {
        await using var beat = await FakeBeat.StartAsync();
        await using var worker = await InProcessWorker.StartAsync(beat.Url, tasks => tasks
            .AddTask("test.throws", async context =>
            {
                await context.Output.WriteLineAsync("about to fail");
                throw new InvalidOperationException("the disk is full");
            }));

        await beat.PublishAsync(FakeBeat.Run(1, "test.throws"));
        var report = await beat.WaitForFinishedAsync(1, Wait);

        Assert.Equal(RunReportOutcomes.Failure, report.Outcome);
        Assert.Equal("System.InvalidOperationException: the disk is full", report.Error);
        Assert.StartsWith("about to fail", report.OutputTail, StringComparison.Ordinal);
        Assert.Contains(" at ", report.OutputTail, StringComparison.Ordinal);
        await AssertAckedAsync(beat);
    }

    [Fact]
    public async Task Registered_task_class_gets_its_services_and_typed_arguments()
    {
        await using var beat = await FakeBeat.StartAsync();
        await using var worker = await InProcessWorker.StartAsync(beat.Url, tasks =>
        {
            tasks.Services.AddSingleton(new Greeting("hello"));
            tasks.AddTask<GreetTask>("test.greet");
        });

        await beat.PublishAsync(FakeBeat.Run(1, "test.greet", args: """["Ada"]""", kwargs: """{"times": 2}"""));
        var report = await beat.WaitForFinishedAsync(1, Wait);

        Assert.Equal(RunReportOutcomes.Success, report.Outcome);
        Assert.Null(report.Error);
        Assert.Equal("hello Ada (run 1 of test-1, attempt 1)\nhello Ada (run 1 of test-1, attempt 1)\n", report.OutputTail);
    }

    [Fact]
    public async Task Echo_writes_its_args_and_kwargs()
    {
        await using var beat = await FakeBeat.StartAsync();
        await using var worker = await InProcessWorker.StartAsync(beat.Url);

        await beat.PublishAsync(FakeBeat.Run(1, "djag.echo", args: """[1,"two"]""", kwargs: """{"three":3}"""));
        var report = await beat.WaitForFinishedAsync(1, Wait);

        Assert.Equal(RunReportOutcomes.Success, report.Outcome);
        Assert.Equal("args: [1,\"two\"]\nkwargs: {\"three\":3}\n", report.OutputTail);
    }

    [Fact]
    public async Task Shell_runs_the_program_without_a_shell_and_keeps_the_output_tail()
    {
        await using var beat = await FakeBeat.StartAsync();
        await using var worker = await InProcessWorker.StartAsync(beat.Url);

        await beat.PublishAsync(FakeBeat.Run(1, "djag.shell", kwargs: """{"program": "echo", "args": ["$HOME", "a;b", "`id`"]}"""));
        await beat.PublishAsync(FakeBeat.Run(2, "djag.shell", kwargs: """
            {"program": "sh", "args": ["-c", "echo to stderr >&2; for i in $(seq 1 3000); do echo \"line $i $GREETING\"; done; pwd"],
             "env": {"GREETING": "hi"}, "cwd": "/tmp"}
            """));
        await beat.PublishAsync(FakeBeat.Run(3, "djag.shell", kwargs: """{"program": "sh", "args": ["-c", "echo out; echo err >&2"]}"""));

        var plain = await beat.WaitForFinishedAsync(1, Wait);
        Assert.Equal(RunReportOutcomes.Success, plain.Outcome);
        Assert.Equal("$HOME a;b `id`\n", plain.OutputTail);

        var chatty = await beat.WaitForFinishedAsync(2, Wait);
        Assert.Equal(RunReportOutcomes.Success, chatty.Outcome);
        // Standard output and error are two pipes read side by side: the tail keeps each one's order, not their interleaving.
        Assert.EndsWith("line 2999 hi\nline 3000 hi\n/tmp\n", chatty.OutputTail!.Replace("to stderr\n", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.StartsWith("…", chatty.OutputTail, StringComparison.Ordinal);
        Assert.Equal(4096, chatty.OutputTail!.Length);

        var both = await beat.WaitForFinishedAsync(3, Wait);
        Assert.Equal(["err", "out"], both.OutputTail!.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Shell_exit_code_other_than_zero_is_failure_with_the_code()
    {
        await using var beat = await FakeBeat.StartAsync();
        await using var worker = await InProcessWorker.StartAsync(beat.Url);

        await beat.PublishAsync(FakeBeat.Run(1, "djag.shell", kwargs: """{"program": "sh", "args": ["-c", "echo no space left >&2; exit 3"]}"""));
        await beat.PublishAsync(FakeBeat.Run(2, "djag.shell", kwargs: """{"program": "/no/such/program"}"""));

        var failed = await beat.WaitForFinishedAsync(1, Wait);
        Assert.Equal(RunReportOutcomes.Failure, failed.Outcome);
        Assert.Equal("'sh' exited with code 3", failed.Error);
        Assert.Equal("no space left\n", failed.OutputTail);

        var missing = await beat.WaitForFinishedAsync(2, Wait);
        Assert.Equal(RunReportOutcomes.Failure, missing.Outcome);
        Assert.StartsWith("cannot start '/no/such/program': ", missing.Error, StringComparison.Ordinal);
        await AssertAckedAsync(beat);
    }

    [Fact]
    public async Task Shell_run_past_its_timeout_is_killed_with_its_children_and_reported()
    {
        await using var beat = await FakeBeat.StartAsync();
        await using var worker = await InProcessWorker.StartAsync(beat.Url);

        // The shell starts a child and waits for it: killing only the shell would leave the sleep behind.
        await beat.PublishAsync(FakeBeat.Run(1, "djag.shell", timeoutSeconds: 1, kwargs: """
            {"program": "sh", "args": ["-c", "sleep 30 & echo child $!; wait"]}
            """));
        var started = await beat.WaitForStartedAsync(1, Wait);
        var report = await beat.WaitForFinishedAsync(1, TimeSpan.FromSeconds(8));

        Assert.Equal(RunReportOutcomes.Failure, report.Outcome);
        Assert.Equal("timed out after 1 s", report.Error);
        Assert.InRange(report.FinishedAt!.Value - started.StartedAt, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(4));
        var child = int.Parse(ChildPid().Match(report.OutputTail!).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        await FakeBeat.WaitUntilAsync(() => !IsAlive(child), TimeSpan.FromSeconds(5), $"the shell's child {child} to be gone");
        await AssertAckedAsync(beat);
    }

    [Fact]
    public async Task Http_request_succeeds_on_the_expected_status_and_fails_naming_another()
    {
        await using var endpoint = new TestHttpEndpoint();
        await using var beat = await FakeBeat.StartAsync();
        await using var worker = await InProcessWorker.StartAsync(beat.Url);

        await beat.PublishAsync(FakeBeat.Run(1, "djag.http", kwargs: $$"""{"url": "{{endpoint.Url("/hit/1")}}"}"""));
        await beat.PublishAsync(FakeBeat.Run(2, "djag.http", kwargs: $$"""{"method": "post", "url": "{{endpoint.Url("/status/500")}}", "body": {"a": 1} }"""));
        await beat.PublishAsync(FakeBeat.Run(3, "djag.http", kwargs: $$"""
            {"method": "PUT", "url": "{{endpoint.Url("/status/404")}}", "expected_status": 404, "body": "plain", "headers": {"Content-Type": "text/csv"} }
            """));
        await beat.PublishAsync(FakeBeat.Run(4, "djag.http", kwargs: """{"url": "ftp://example.org/"}"""));

        var ok = await beat.WaitForFinishedAsync(1, Wait);
        Assert.Equal(RunReportOutcomes.Success, ok.Outcome);
        Assert.Equal("HTTP 200 OK\nanswer to /hit/1", ok.OutputTail);

        var error = await beat.WaitForFinishedAsync(2, Wait);
        Assert.Equal(RunReportOutcomes.Failure, error.Outcome);
        Assert.Equal($"POST {endpoint.Url("/status/500")} answered HTTP 500 Internal Server Error (expected 2xx)", error.Error);
        Assert.Equal("POST application/json; charset=utf-8 {\"a\":1}", endpoint.Body("/status/500"));

        var expected = await beat.WaitForFinishedAsync(3, Wait);
        Assert.Equal(RunReportOutcomes.Success, expected.Outcome);
        Assert.Equal("PUT text/csv plain", endpoint.Body("/status/404"));

        var notHttp = await beat.WaitForFinishedAsync(4, Wait);
        Assert.Equal("argument 'url': expected an absolute http or https URL, got \"ftp://example.org/\"", notHttp.Error);
    }

    [Fact]
    public async Task Sleep_takes_fractional_seconds()
    {
        await using var beat = await FakeBeat.StartAsync();
        await using var worker = await InProcessWorker.StartAsync(beat.Url);

        await beat.PublishAsync(FakeBeat.Run(1, "djag.sleep", kwargs: """{"seconds": 0.3}"""));
        var report = await beat.WaitForFinishedAsync(1, Wait);

        Assert.Equal(RunReportOutcomes.Success, report.Outcome);
        Assert.Equal("slept 0.3 s\n", report.OutputTail);
        Assert.InRange(report.FinishedAt!.Value - report.StartedAt, TimeSpan.FromSeconds(0.25), TimeSpan.FromSeconds(5));
    }

    internal static async Task AssertAckedAsync(FakeBeat beat)
    {
        await FakeBeat.WaitUntilAsync(async () => await beat.MessagesInStreamAsync() == 0, Wait, "every message to be acknowledged");
    }

    /// <summary>Alive unless gone or a zombie (its parent was killed too, and no one may have reaped it yet).</summary>
    internal static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..][0];
            return state is not ('Z' or 'X');
        }
        catch (IOException)
        {
            return false;
        }
    }

    [GeneratedRegex(@"child (\d+)")]
    private static partial Regex ChildPid();

    internal sealed record Greeting(string Word);

    internal sealed record GreetArgs(string Who, int Times = 1);

    internal sealed class GreetTask(Greeting greeting) : IDjagTask
    {
        public async Task RunAsync(TaskContext context)
        {
            var args = context.Bind<GreetArgs>();
            for (var i = 0; i < args.Times; i++)
            {
                await context.Output.WriteLineAsync($"{greeting.Word} {args.Who} (run {context.RunId} of {context.Name}, attempt {context.Attempt})");
            }
        }
    }
}
