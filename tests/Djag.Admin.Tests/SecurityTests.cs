using System.Text.Json;
using Djag.Admin.Tests.Infrastructure;
using Djag.Persistence.Schedules;
using Djag.Scheduling;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Djag.Admin.Tests;

/// <summary>Login, first run, roles, headers and the error page, in the browser.</summary>
public sealed class SecurityTests(AdminFixture fixture)
{
    [Fact]
    public async Task First_run_says_how_to_create_a_user_and_everything_but_login_and_health_needs_one()
    {
        await using var admin = await AdminApp.StartAsync(fixture, "firstrun");
        var page = await AdminApp.NewPageAsync(fixture);

        var response = await page.GotoAsync(admin.Url + "/tasks");
        Assert.Contains("/login", page.Url, StringComparison.Ordinal);
        await Expect(page.Locator("#first-run")).ToContainTextAsync("djag users add NAME --role admin");
        var headers = await response!.AllHeadersAsync();
        Assert.Contains("frame-ancestors 'none'", headers["content-security-policy"], StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", headers["content-security-policy"], StringComparison.Ordinal);
        Assert.Equal("nosniff", headers["x-content-type-options"]);
        Assert.Equal("same-origin", headers["referrer-policy"]);
        await Screens.CaptureAsync(page, "login");

        var health = await page.APIRequest.GetAsync(admin.Url + "/health");
        Assert.Equal(200, health.Status);
        Assert.Equal("ok", JsonDocument.Parse(await health.TextAsync()).RootElement.GetProperty("status").GetString());

        // No user exists, so no password can work; the answer does not say which part was wrong.
        await page.FillAsync("#Name", "admin");
        await page.FillAsync("#Password", "admin");
        await page.ClickAsync("button[type=submit]");
        await Expect(page.Locator(".errors")).ToContainTextAsync("Unknown user name or wrong password.");
        Assert.Contains("/login", page.Url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_session_cookie_is_http_only_and_strict_and_errors_show_no_internals()
    {
        await using var admin = await AdminApp.StartAsync(fixture, "session");
        var (password, _) = await admin.AddUsersAsync();
        var page = await AdminApp.NewPageAsync(fixture);

        await admin.LogInAsync(page, AdminApp.AdminUser, password);

        Assert.EndsWith("/tasks", page.Url, StringComparison.Ordinal);
        var session = Assert.Single(await page.Context.CookiesAsync(), c => c.Name == "djag.session");
        Assert.True(session.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, session.SameSite);
        await Expect(page.Locator("header .user")).ToContainTextAsync("alice (admin)");

        var missing = await page.GotoAsync(admin.Url + "/tasks/details?name=no-such-task");
        Assert.Equal(404, missing!.Status);
        await Expect(page.Locator("h1")).ToHaveTextAsync("Not found");
        Assert.DoesNotContain("Exception", await page.ContentAsync(), StringComparison.Ordinal);

        // A form posted without its anti-forgery token is refused.
        var forged = await page.APIRequest.PostAsync(admin.Url + "/tasks?handler=Bulk", new APIRequestContextOptions
        {
            Form = FormOf(page, ("action", "disable"), ("selected", "x")),
            MaxRedirects = 0,
        });
        Assert.Equal(400, forged.Status);

        await page.ClickAsync("header .user button");
        await page.WaitForURLAsync(u => u.Contains("/login", StringComparison.Ordinal));
        await page.GotoAsync(admin.Url + "/dag");
        Assert.Contains("/login", page.Url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Html_and_sql_in_a_task_are_shown_as_text_and_a_nul_in_a_search_is_an_error_not_a_crash()
    {
        const string Name = "<script>window.pwned=1</script><img src=x onerror=\"window.pwned=2\">";
        const string Sql = "'; DROP TABLE djag.periodic_tasks; --";
        await using var admin = await AdminApp.StartAsync(fixture, "escape");
        var (password, _) = await admin.AddUsersAsync();
        await using (var db = admin.Context())
        {
            var spec = new CrontabSpec(new CronFields("0", "*/5", "*", "*", "*", "*"), "UTC");
            await new ScheduleService(db, TimeProvider.System).ApplyAsync(
                new ScheduleChange { Tasks = [new TaskEdit { Name = Name, Task = Sql, Crontab = spec, Description = Name }] },
                TestContext.Current.CancellationToken);
        }

        var page = await AdminApp.NewPageAsync(fixture);
        var dialogs = 0;
        page.Dialog += (_, dialog) =>
        {
            dialogs++;
            _ = dialog.DismissAsync();
        };
        await admin.LogInAsync(page, AdminApp.AdminUser, password);

        foreach (var path in new[] { "/tasks", "/tasks/details?name=" + Uri.EscapeDataString(Name), "/dag" })
        {
            await page.GotoAsync(admin.Url + path);
            await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
            await Expect(page.Locator("body")).ToContainTextAsync(path == "/dag" ? "<script>window.pwned=1</script>" : Sql);
            var html = await (await page.APIRequest.GetAsync(admin.Url + path)).TextAsync();
            Assert.DoesNotContain("<script>window.pwned", html, StringComparison.Ordinal);
            Assert.DoesNotContain("<img src=x", html, StringComparison.Ordinal);
            Assert.Null(await page.EvaluateAsync<int?>("window.pwned ?? null"));
        }

        await Expect(page.Locator("h1")).ToContainTextAsync("DAG");
        await page.GotoAsync(admin.Url + "/tasks/details?name=" + Uri.EscapeDataString(Name));
        await Expect(page.Locator("h1")).ToContainTextAsync(Name);
        var search = await page.GotoAsync(admin.Url + "/tasks?search=a%00b");
        Assert.True(search!.Status < 500, $"status {search.Status}");
        await Expect(page.Locator(".errors")).ToContainTextAsync("NUL");
        Assert.Equal(0, dialogs);
        Assert.Equal(1, await admin.ScalarAsync("SELECT count(*) FROM djag.periodic_tasks"));
    }

    [Fact]
    public async Task A_read_only_user_sees_everything_but_has_no_write_buttons_and_writes_are_refused()
    {
        await using var admin = await AdminApp.StartAsync(fixture, "readonly");
        var (_, password) = await admin.AddUsersAsync();
        await using (var db = admin.Context())
        {
            var spec = new CrontabSpec(new CronFields("0", "*/5", "*", "*", "*", "*"), "UTC");
            await new ScheduleService(db, TimeProvider.System).ApplyAsync(
                new ScheduleChange { Tasks = [new TaskEdit { Name = "extract", Task = "etl.extract", Crontab = spec }] },
                TestContext.Current.CancellationToken);
        }

        var page = await AdminApp.NewPageAsync(fixture);
        await admin.LogInAsync(page, AdminApp.ReadOnlyUser, password);

        await Expect(page.Locator("#tasks tr[data-task=extract]")).ToBeVisibleAsync();
        await Expect(page.Locator("header .user")).ToContainTextAsync("bob (read only)");
        await Expect(page.Locator("#add-task")).ToHaveCountAsync(0);
        await Expect(page.Locator("#bulk-go")).ToHaveCountAsync(0);
        await Expect(page.Locator("input[name=selected]")).ToHaveCountAsync(0);
        await Screens.CaptureAsync(page, "tasks-read-only");
        var token = await page.Locator("#bulk-form input[name=__RequestVerificationToken]").GetAttributeAsync("value");

        // The buttons are hidden; a hand-made request with a valid token is refused all the same.
        var bulk = await page.APIRequest.PostAsync(admin.Url + "/tasks?handler=Bulk", new APIRequestContextOptions
        {
            Form = FormOf(page, ("action", "disable"), ("selected", "extract"), ("__RequestVerificationToken", token!)),
        });
        Assert.Equal(403, bulk.Status);
        Assert.Contains("read only", await bulk.TextAsync(), StringComparison.Ordinal);

        await page.GotoAsync(admin.Url + "/tasks/details?name=extract");
        await Expect(page.Locator("#why")).ToBeVisibleAsync();
        await Expect(page.Locator("#run-now")).ToHaveCountAsync(0);
        await Expect(page.Locator("#edit-task")).ToHaveCountAsync(0);
        var runNow = await page.APIRequest.PostAsync(admin.Url + "/tasks/details?name=extract&handler=RunNow", new APIRequestContextOptions
        {
            Form = FormOf(page, ("__RequestVerificationToken", token!)),
        });
        Assert.Equal(403, runNow.Status);

        Assert.Equal(1, await admin.ScalarAsync("SELECT count(*) FROM djag.periodic_tasks WHERE enabled"));
        Assert.Equal(0, await admin.ScalarAsync("SELECT count(*) FROM djag.runs"));
    }

    private static IFormData FormOf(IPage page, params (string Name, string Value)[] fields)
    {
        var form = page.APIRequest.CreateFormData();
        foreach (var (name, value) in fields)
        {
            form.Append(name, value);
        }

        return form;
    }
}
