using Djag.Admin.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Djag.Admin.Tests;

/// <summary>Building a schedule in the browser: crontabs with their preview, tasks, dependencies, the DAG, bulk actions.</summary>
public sealed class ScheduleTests(AdminFixture fixture)
{
    [Fact]
    public async Task An_admin_creates_a_crontab_and_two_dependent_tasks_sees_the_dag_is_refused_a_cycle_and_bulk_disables()
    {
        await using var admin = await AdminApp.StartAsync(fixture, "schedule");
        var (password, _) = await admin.AddUsersAsync();
        var page = await AdminApp.NewPageAsync(fixture);
        await admin.LogInAsync(page, AdminApp.AdminUser, password);

        // A crontab whose preview crosses the spring-forward gap in Berlin: 02:30 does not exist on 2026-03-29.
        await page.GotoAsync(admin.Url + "/crontabs");
        await page.ClickAsync("#add-crontab");
        await page.FillAsync("#preview-from", "2026-03-27T12:00");
        await page.FillAsync("#Input_Minute", "30");
        await page.FillAsync("#Input_Hour", "2");
        await page.FillAsync("#Input_Timezone", "Europe/Berlin");
        var preview = page.Locator("#cron-preview");
        await Expect(preview.Locator("li.dst")).ToContainTextAsync("clocks go forward 1 h");
        await Expect(preview.Locator("li.fire").First).ToContainTextAsync("2026-03-28 02:30:00 CET");
        await Expect(preview.Locator("li.fire").Nth(1)).ToContainTextAsync("2026-03-29 03:00:00 CEST");
        await Expect(preview.Locator("li.fire").Nth(1)).ToContainTextAsync("first fire after the clock change");

        // A bad field is named in the preview as it is typed, and beside the field when saved; nothing is saved.
        await page.FillAsync("#Input_Hour", "25");
        await Expect(preview.Locator("#preview-errors")).ToContainTextAsync("hour: '25' is not a valid hour");
        await page.ClickAsync("#save");
        await Expect(page.Locator("span[data-valmsg-for='Input.Hour']")).ToContainTextAsync("'25' is not a valid hour");
        await Expect(page.Locator("#not-saved")).ToBeVisibleAsync();
        Assert.Equal(0, await admin.ScalarAsync("SELECT count(*) FROM djag.crontabs"));
        await page.FillAsync("#Input_Hour", "2");
        await Expect(preview.Locator("li.dst")).ToBeVisibleAsync();
        await Screens.CaptureAsync(page, "crontab-edit");
        await page.ClickAsync("#save");
        await Expect(page.Locator("#crontabs")).ToContainTextAsync("0 30 2 * * *");
        await Expect(page.Locator("#crontabs")).ToContainTextAsync("Europe/Berlin");

        // The first task: a bad priority is refused beside its field and nothing is saved.
        await page.GotoAsync(admin.Url + "/tasks");
        await page.ClickAsync("#add-task");
        await page.FillAsync("#Input_Name", "extract");
        await page.FillAsync("#Input_Task", "etl.extract");
        await page.SelectOptionAsync("#Input_CrontabId", new SelectOptionValue { Index = 1 });
        await page.FillAsync("#Input_Kwargs", "[1]");
        await Expect(page.Locator("#Input_Kwargs ~ .json-status")).ToContainTextAsync("must be a JSON object");
        await page.FillAsync("#Input_Kwargs", """{"source": "s3://bucket"}""");
        await Expect(page.Locator("#Input_Kwargs ~ .json-status")).ToContainTextAsync("valid JSON");
        await page.FillAsync("#Input_Priority", "300");
        await page.ClickAsync("#save");
        await Expect(page.Locator("span[data-valmsg-for='Input.Priority']")).ToContainTextAsync("300 is out of range: priority is 0-255");
        await Expect(page.Locator("#not-saved")).ToBeVisibleAsync();
        await Expect(page.Locator("#Input_Kwargs")).ToHaveValueAsync("""{"source": "s3://bucket"}""");
        Assert.Equal(0, await admin.ScalarAsync("SELECT count(*) FROM djag.periodic_tasks"));
        await page.FillAsync("#Input_Priority", "5");
        await page.ClickAsync("#save");
        await Expect(page.Locator("h1")).ToContainTextAsync("extract");

        // The second task depends on the first, through the inline "Dependent on" row.
        await page.GotoAsync(admin.Url + "/tasks/edit");
        await page.FillAsync("#Input_Name", "load");
        await page.FillAsync("#Input_Task", "etl.load");
        await page.SelectOptionAsync("#Input_CrontabId", new SelectOptionValue { Index = 1 });
        await page.FillAsync("input[name='DependsOn[0].Task']", "extract");
        await page.SelectOptionAsync("select[name='DependsOn[0].Condition']", "completion");
        await Screens.CaptureAsync(page, "task-edit");
        await page.ClickAsync("#save");
        await Expect(page.Locator("h1")).ToContainTextAsync("load");
        await Expect(page.Locator("dl.props")).ToContainTextAsync("extract (completion)");
        await Expect(page.Locator("#why")).ToContainTextAsync("Not due");
        await Screens.CaptureAsync(page, "task-details");
        Assert.Equal(1, await admin.ScalarAsync("SELECT count(*) FROM djag.task_dependencies d JOIN djag.periodic_tasks a ON a.id = d.depender_id JOIN djag.periodic_tasks b ON b.id = d.dependee_id WHERE a.name = 'load' AND b.name = 'extract' AND d.condition = 'completion'"));

        // The DAG, laid out by Graphviz, links each task to its page.
        await page.GotoAsync(admin.Url + "/dag");
        var svg = page.Locator("#dag-svg");
        await Expect(svg).ToBeVisibleAsync();
        await Expect(svg.Locator("g.node")).ToHaveCountAsync(2);
        await Expect(svg.Locator("g.edge")).ToHaveCountAsync(1);
        await Screens.CaptureAsync(page, "dag");
        await svg.Locator("g.node a").Filter(new LocatorFilterOptions { HasText = "extract" }).ClickAsync();
        await page.WaitForURLAsync(u => u.EndsWith("/tasks/details?name=extract", StringComparison.Ordinal));

        // extract -> load would close a cycle: refused, and the cycle is shown.
        await page.GotoAsync(admin.Url + "/dependencies");
        await page.FillAsync("#add-dependency input[name=Depender]", "extract");
        await page.FillAsync("#add-dependency input[name=Dependee]", "load");
        await page.ClickAsync("#save-dependency");
        await Expect(page.Locator("#dependency-errors")).ToContainTextAsync("the change would close the cycle extract -> load -> extract");
        Assert.Equal(1, await admin.ScalarAsync("SELECT count(*) FROM djag.task_dependencies"));

        // As a future dependency it is allowed: future edges do not count for cycles.
        await page.CheckAsync("#add-dependency input[name=FutureDepends]");
        await page.ClickAsync("#save-dependency");
        await Expect(page.Locator("#dependencies tr[data-edge='extract -> load']")).ToBeVisibleAsync();
        await Screens.CaptureAsync(page, "dependencies");
        await page.GotoAsync(admin.Url + "/dag");
        await Expect(page.Locator("#dag-svg g.edge")).ToHaveCountAsync(2);
        await Expect(page.Locator("#dag-svg g.edge path[stroke-dasharray]")).ToHaveCountAsync(1);

        // Bulk disable from the list.
        await page.GotoAsync(admin.Url + "/tasks");
        await page.CheckAsync("input.select-all");
        await page.SelectOptionAsync("#bulk-action", "disable");
        await page.ClickAsync("#bulk-go");
        await Expect(page.Locator(".flash")).ToContainTextAsync("Disabled 2 tasks");
        await Expect(page.Locator("#tasks td.enabled")).ToHaveTextAsync(["no", "no"]);
        await Expect(page.Locator("#tasks .state")).ToHaveTextAsync(["disabled", "disabled"]);
        Assert.Equal(0, await admin.ScalarAsync("SELECT count(*) FROM djag.periodic_tasks WHERE enabled"));

        // Filter and search.
        await page.GotoAsync(admin.Url + "/tasks?search=extr");
        await Expect(page.Locator("#tasks tbody tr")).ToHaveCountAsync(1);
        await page.GotoAsync(admin.Url + "/tasks?enabled=true");
        await Expect(page.Locator("#tasks tbody tr")).ToHaveCountAsync(0);
    }
}
