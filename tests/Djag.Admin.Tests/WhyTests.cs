using Djag.Admin.Tests.Infrastructure;
using Djag.Persistence.Schedules;
using Djag.Scheduling;
using NodaTime;
using static Microsoft.Playwright.Assertions;

namespace Djag.Admin.Tests;

/// <summary>The task page's "why is it waiting" panel shows the core's explanation.</summary>
public sealed class WhyTests(AdminFixture fixture)
{
    [Fact]
    public async Task A_due_event_held_by_an_unresolved_edge_is_explained_with_the_edge()
    {
        await using var admin = await AdminApp.StartAsync(fixture, "why");
        var (_, password) = await admin.AddUsersAsync();
        var hourAgo = Instant.FromDateTimeOffset(TimeProvider.System.GetUtcNow()) - Duration.FromHours(1);
        await using (var db = admin.Context())
        {
            // No beat runs: "report" has never completed, so the minutely event of "publish" is due and held.
            await new ScheduleService(db, TimeProvider.System).ApplyAsync(new ScheduleChange
            {
                Tasks =
                [
                    new TaskEdit { Name = "publish", Task = "etl.publish", Crontab = new CrontabSpec(new CronFields("0", "*", "*", "*", "*", "*"), "UTC"), CronBase = hourAgo },
                    new TaskEdit { Name = "report", Task = "etl.report", Crontab = new CrontabSpec(new CronFields("0", "0", "0", "1", "1", "*"), "UTC"), CronBase = hourAgo },
                ],
                Dependencies = [new DependencyEdit("publish", "report")],
            }, TestContext.Current.CancellationToken);
        }

        var page = await AdminApp.NewPageAsync(fixture);
        await admin.LogInAsync(page, AdminApp.ReadOnlyUser, password);
        await page.GotoAsync(admin.Url + "/tasks/details?name=publish");

        var why = page.Locator("#why");
        await Expect(why.Locator(".verdict")).ToContainTextAsync("Waiting since");
        await Expect(why.Locator("table")).ToContainTextAsync("report");
        await Expect(why.Locator("table td[data-label=Resolved]")).ToHaveTextAsync("no");
        await Expect(why.Locator(".reasons li").First).ToContainTextAsync("report");
        await Screens.CaptureAsync(page, "task-why");

        await page.GotoAsync(admin.Url + "/tasks/details?name=report");
        await Expect(page.Locator("#why .verdict")).ToContainTextAsync("Not due");
    }
}
