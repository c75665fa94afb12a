using Djag.Admin.Tests.Infrastructure;
using Djag.TestKit;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Djag.Admin.Tests;

/// <summary>
/// The whole system on loopback (NATS, a beat and a worker as processes, the admin in-process): runs a worker
/// executes show up in the history, the timeline, the workers and Quartz pages; run now, retry, backfill.
/// </summary>
public sealed class RunTests(AdminFixture fixture)
{
    private static readonly TimeSpan RunDeadline = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Runs_a_worker_executes_appear_in_the_history_and_can_be_operated()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var nats = await NatsServer.StartAsync(ct);
        await using var admin = await AdminApp.StartAsync(fixture, "runs", nats.Url);
        var (password, _) = await admin.AddUsersAsync();
        var page = await AdminApp.NewPageAsync(fixture);
        await admin.LogInAsync(page, AdminApp.AdminUser, password);

        // Started after the login, so the admin's cold first pages do not share the 2 cores with two processes starting.
        var environment = admin.Environment(nats.Url);
        await using var beat = DjagProcess.StartOnTestRuntime("djag-beat", environment);
        await using var worker = DjagProcess.StartOnTestRuntime("djag-worker", environment, "--queues", "default");
        var processes = new[] { beat, worker };
        var everyTwoSeconds = await CreateCrontabAsync(page, admin, "*/2", "*", "*");
        var hourly = await CreateCrontabAsync(page, admin, "0", "0", "*");
        await AddTaskAsync(page, admin, "tick", "djag.echo", everyTwoSeconds, """{"message": "hello from tick"}""");
        await AddTaskAsync(page, admin, "boom", "djag.shell", hourly, """{"program": "/bin/false"}""");
        await AddTaskAsync(page, admin, "hourly", "djag.echo", hourly, "{}");

        // The beat dispatches tick every two seconds; the worker's run appears in the history.
        await PollAsync(page, admin.Url + "/runs?task=tick&outcome=success", "#runs tr[data-task=tick] .run-success", processes, "a run of tick succeeded");
        await Expect(page.Locator("#runs tr[data-task=tick]").First).ToContainTextAsync("hello from tick");

        // Run now: a manual run of a task that is not due for an hour fails (the program exits 1) and is retried.
        await page.GotoAsync(admin.Url + "/tasks/details?name=boom");
        await Expect(page.Locator("#why")).ToContainTextAsync("Not due");
        await page.ClickAsync("#run-now");
        await Expect(page.Locator(".flash")).ToContainTextAsync("Queued run #");
        await PollAsync(page, admin.Url + "/runs?task=boom&origin=manual", "#runs tr[data-task=boom] .run-failure", processes, "the manual run of boom failed");
        await page.Locator("#runs tr[data-task=boom] a[href^='/runs/details']").First.ClickAsync();
        await Expect(page.Locator("#run")).ToContainTextAsync("manual");
        await page.ClickAsync("#retry");
        await Expect(page.Locator(".flash")).ToContainTextAsync("attempt 2");
        await PollAsync(page, admin.Url + "/runs?task=boom&origin=retry", "#runs tr[data-task=boom] .run-failure", processes, "the retry of boom ran");

        // Backfill the last three hours of an hourly task (created just now, so they are before its cron base).
        await page.GotoAsync(admin.Url + "/tasks/details?name=hourly");
        var now = DateTimeOffset.UtcNow;
        var from = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero).AddHours(-3);
        await page.FillAsync("input[name=From]", from.ToString("yyyy-MM-ddTHH:mm", System.Globalization.CultureInfo.InvariantCulture));
        await page.FillAsync("input[name=To]", from.AddHours(2).ToString("yyyy-MM-ddTHH:mm", System.Globalization.CultureInfo.InvariantCulture));
        await page.ClickAsync("#backfill");
        await Expect(page.Locator(".flash")).ToContainTextAsync("Backfill queued 3 run(s)");
        await Expect(page.Locator("#bf-total")).ToHaveTextAsync("3");
        await Expect(page.Locator("#bf-finished")).ToHaveTextAsync("3", new LocatorAssertionsToHaveTextOptions { Timeout = (float)RunDeadline.TotalMilliseconds });
        await Expect(page.Locator("#bf-succeeded")).ToHaveTextAsync("3");
        await Screens.CaptureAsync(page, "backfill");

        await page.GotoAsync(admin.Url + "/tasks");
        await Expect(page.Locator("#tasks tr[data-task=boom] .state")).ToHaveTextAsync("failed");
        await Screens.CaptureAsync(page, "tasks");
        await page.GotoAsync(admin.Url + "/tasks/details?name=tick");
        await Screens.CaptureAsync(page, "task-details-runs");
        await page.GotoAsync(admin.Url + "/runs");
        await Screens.CaptureAsync(page, "runs");

        // The DAG colours tasks by state: boom failed; its future edge is dashed.
        await AddDependencyAsync(page, admin, "hourly", "tick", future: false);
        await AddDependencyAsync(page, admin, "boom", "hourly", future: true);
        await page.GotoAsync(admin.Url + "/dag");
        await Expect(page.Locator("#dag-svg g.node")).ToHaveCountAsync(3);
        await Expect(page.Locator("#dag-svg g.node").Filter(new LocatorFilterOptions { HasText = "boom" }).Locator("path[fill='#ffb3b3']")).ToHaveCountAsync(1);
        await Expect(page.Locator("#dag-svg g.edge path[stroke-dasharray]")).ToHaveCountAsync(1);
        await Screens.CaptureAsync(page, "dag-states");

        await page.GotoAsync(admin.Url + "/runs/timeline");
        await Expect(page.Locator("#timeline rect.bar.run-success").First).ToBeVisibleAsync();
        await Expect(page.Locator("#timeline rect.bar.run-failure").First).ToBeVisibleAsync();
        await Screens.CaptureAsync(page, "timeline");

        await page.GotoAsync(admin.Url + "/workers");
        await Expect(page.Locator("#workers tbody tr")).ToHaveCountAsync(1);
        await Expect(page.Locator("#workers")).ToContainTextAsync("default");
        await Screens.CaptureAsync(page, "workers");

        await page.GotoAsync(admin.Url + "/quartz");
        await Expect(page.Locator("#triggers")).ToContainTextAsync("tick");
        await Expect(page.Locator("#triggers")).ToContainTextAsync("*/2 * * * * *");
        await Expect(page.Locator("#instances tbody tr")).ToHaveCountAsync(1);
        await Screens.CaptureAsync(page, "quartz");

        // User actions: an UNCLASSIFIED one with a JSON payload; the beat has consumed the internal ones into the audits.
        await page.GotoAsync(admin.Url + "/actions");
        await page.FillAsync("#Payload", """{"signal": "drain"}""");
        await page.ClickAsync("#save-action");
        await Expect(page.Locator(".flash")).ToContainTextAsync("UNCLASSIFIED");
        await Expect(page.Locator("#actions")).ToContainTextAsync("drain");
        await Screens.CaptureAsync(page, "actions");
        await page.GotoAsync(admin.Url + "/audits?search=TASK_CHANGED");
        await Expect(page.Locator("#audits tbody tr[data-action=TASK_CHANGED]")).ToHaveCountAsync(3);
        await Expect(page.Locator("#audits tbody tr:not([data-action=TASK_CHANGED])")).ToHaveCountAsync(0);
        await Expect(page.Locator("#audits")).ToContainTextAsync("\"task\": \"tick\"");
        await Screens.CaptureAsync(page, "audits");
    }

    private static async Task<string> CreateCrontabAsync(IPage page, AdminApp admin, string second, string minute, string hour)
    {
        await page.GotoAsync(admin.Url + "/crontabs/edit");
        await page.FillAsync("#Input_Second", second);
        await page.FillAsync("#Input_Minute", minute);
        await page.FillAsync("#Input_Hour", hour);
        await page.ClickAsync("#save");
        await Expect(page.Locator(".flash")).ToContainTextAsync("Saved crontab");
        return $"{second} {minute} {hour} * * * (UTC)";
    }

    private static async Task AddDependencyAsync(IPage page, AdminApp admin, string depender, string dependee, bool future)
    {
        await page.GotoAsync(admin.Url + "/dependencies");
        await page.FillAsync("#add-dependency input[name=Depender]", depender);
        await page.FillAsync("#add-dependency input[name=Dependee]", dependee);
        await page.SetCheckedAsync("#add-dependency input[name=FutureDepends]", future);
        await page.ClickAsync("#save-dependency");
        await Expect(page.Locator(".flash")).ToContainTextAsync($"Saved {depender} → {dependee}");
    }

    private static async Task AddTaskAsync(IPage page, AdminApp admin, string name, string task, string crontab, string kwargs)
    {
        await page.GotoAsync(admin.Url + "/tasks/edit");
        await page.FillAsync("#Input_Name", name);
        await page.FillAsync("#Input_Task", task);
        await page.SelectOptionAsync("#Input_CrontabId", new SelectOptionValue { Label = crontab });
        await page.FillAsync("#Input_Kwargs", kwargs);
        await page.ClickAsync("#save");
        await Expect(page.Locator(".flash")).ToContainTextAsync($"Saved task {name}");
    }

    /// <summary>Reloads <paramref name="url"/> until <paramref name="selector"/> matches; fails with the processes' output.</summary>
    private static async Task PollAsync(IPage page, string url, string selector, IReadOnlyList<DjagProcess> processes, string what)
    {
        var deadline = DateTimeOffset.UtcNow + RunDeadline;
        while (true)
        {
            await page.GotoAsync(url);
            if (await page.Locator(selector).CountAsync() > 0)
            {
                return;
            }

            if (DateTimeOffset.UtcNow > deadline)
            {
                var logs = string.Join('\n', processes.Select(p => $"--- pid {p.Pid} ---\n{Tail(p.Output)}"));
                Assert.Fail($"timed out after {RunDeadline} waiting until {what}\n{await page.Locator("main").InnerTextAsync()}\n{logs}");
            }

            await Task.Delay(500, TestContext.Current.CancellationToken);
        }
    }

    private static string Tail(string text) => text.Length > 20_000 ? text[^20_000..] : text;
}
