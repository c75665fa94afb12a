using Djag.IntegrationTests.Infrastructure;
using Djag.Persistence;
using Djag.Persistence.Schedules;
using Djag.Persistence.UserActions;
using Djag.Scheduling;
using Microsoft.EntityFrameworkCore;
using NodaTime;
using Npgsql;

namespace Djag.IntegrationTests.Persistence;

public sealed class ScheduleServiceTests(ServersFixture servers)
{
    private static readonly string[] AllTables = ["crontabs", "periodic_tasks", "task_dependencies", "user_actions"];

    private static readonly ScheduleChange Etl = new()
    {
        Tasks = [TestDatabase.Task("extract"), TestDatabase.Task("transform"), TestDatabase.Task("load", "0 * * * *")],
        Dependencies = [new("transform", "extract"), new("load", "transform", Condition: DependencyCondition.Completion)],
    };

    [Fact]
    public async Task A_change_is_saved_with_the_user_actions_the_beat_consumes()
    {
        var db = await TestDatabase.CreateAsync(servers, "schedule");

        var result = await db.ApplyAsync(Etl);

        Assert.Equal(new ScheduleChangeResult(0, 3, 0, 2, 0), result);
        await using var context = db.Context();
        var ct = TestContext.Current.CancellationToken;
        var tasks = await context.PeriodicTasks.Include(t => t.Crontab).OrderBy(t => t.Name).ToListAsync(ct);
        Assert.Equal(["extract", "load", "transform"], tasks.Select(t => t.Name));
        var now = Instant.FromDateTimeOffset(db.Clock.GetUtcNow());
        Assert.All(tasks, t => Assert.Equal(now, t.CronBase));
        Assert.All(tasks, t => Assert.Equal(now, t.DateChanged));
        Assert.Equal(2, await context.Crontabs.CountAsync(ct)); // two tasks share "*/5 * * * *"
        Assert.Equal("0 */5 * * * *", tasks[0].Crontab.Expression);

        var actions = await context.UserActions.OrderBy(a => a.Id).Select(a => a.Action).ToListAsync(ct);
        Assert.Equal(
            [UserActionCodes.TaskChanged, UserActionCodes.TaskChanged, UserActionCodes.TaskChanged,
             UserActionCodes.DependencyChanged, UserActionCodes.DependencyChanged],
            actions);
        var load = await context.TaskDependencies.SingleAsync(d => d.Depender.Name == "load", ct);
        Assert.Equal(DependencyCondition.Completion, load.Condition);
        Assert.True(load.ChangeMark > 0);
    }

    [Fact]
    public async Task Applying_the_same_change_twice_changes_nothing_the_second_time()
    {
        var db = await TestDatabase.CreateAsync(servers, "schedule");
        await db.ApplyAsync(Etl);
        var before = await db.CountAsync("user_actions");
        db.Clock.Advance(TimeSpan.FromMinutes(5));

        var result = await db.ApplyAsync(Etl);

        Assert.False(result.Changed);
        Assert.Equal(before, await db.CountAsync("user_actions"));
        await using var context = db.Context();
        Assert.All(await context.PeriodicTasks.ToListAsync(TestContext.Current.CancellationToken),
            t => Assert.Equal(Instant.FromUtc(2026, 3, 1, 12, 0), t.DateChanged));
    }

    public static TheoryData<TaskEdit, string, string> BadTasks => new()
    {
        { TestDatabase.Task("t") with { Crontab = new CrontabSpec(new CronFields("0", "61", "*", "*", "*", "*"), "UTC") }, "tasks[t].minute", "'61'" },
        { TestDatabase.Task("t") with { Crontab = new CrontabSpec(new CronFields("0", "*", "25", "*", "*", "*"), "UTC") }, "tasks[t].hour", "'25'" },
        { TestDatabase.Task("t") with { Crontab = new CrontabSpec(new CronFields("0", "*", "*", "32", "*", "*"), "UTC") }, "tasks[t].day_of_month", "'32'" },
        { TestDatabase.Task("t") with { Crontab = new CrontabSpec(new CronFields("0", "*", "*", "*", "13", "*"), "UTC") }, "tasks[t].month_of_year", "'13'" },
        { TestDatabase.Task("t") with { Crontab = new CrontabSpec(new CronFields("0", "*", "*", "*", "*", "funday"), "UTC") }, "tasks[t].day_of_week", "'funday'" },
        { TestDatabase.Task("t") with { Crontab = new CrontabSpec(new CronFields("75", "*", "*", "*", "*", "*"), "UTC") }, "tasks[t].second", "'75'" },
        { TestDatabase.Task("t") with { Crontab = TestDatabase.Every("* * * * *", "Mars/Olympus") }, "tasks[t].timezone", "'Mars/Olympus'" },
        { TestDatabase.Task("t") with { SkipMisfire = true, CoalesceMisfire = true, GracePeriod = 30 }, "tasks[t].coalesce_misfire", "skip_misfire" },
        { TestDatabase.Task("t") with { SkipMisfire = true }, "tasks[t].grace_period", "required" },
        { TestDatabase.Task("t") with { CoalesceMisfire = true }, "tasks[t].grace_period", "required" },
        { TestDatabase.Task("t") with { GracePeriod = -1 }, "tasks[t].grace_period", "-1" },
        { TestDatabase.Task("t") with { Args = """{"a": 1}""" }, "tasks[t].args", "not a JSON array" },
        { TestDatabase.Task("t") with { Args = "[1," }, "tasks[t].args", "not valid JSON" },
        { TestDatabase.Task("t") with { Kwargs = "[1]" }, "tasks[t].kwargs", "not a JSON object" },
        { TestDatabase.Task("t") with { Headers = "3" }, "tasks[t].headers", "not a JSON object" },
        { TestDatabase.Task("t") with { Priority = 300 }, "tasks[t].priority", "300" },
        { TestDatabase.Task("t") with { Priority = -1 }, "tasks[t].priority", "-1" },
        { TestDatabase.Task("t") with { Queue = "a.b" }, "tasks[t].queue", "'a.b'" },
        { TestDatabase.Task("t") with { MaxRunning = 0 }, "tasks[t].max_running", "0" },
        { TestDatabase.Task("t") with { MaxCatchup = 0 }, "tasks[t].max_catchup", "0" },
        { TestDatabase.Task("t") with { Timeout = 0 }, "tasks[t].timeout", "0" },
        { TestDatabase.Task("t") with { MaxRetries = -2 }, "tasks[t].max_retries", "-2" },
        { TestDatabase.Task("t") with { Task = " " }, "tasks[t].task", "required" },
        { TestDatabase.Task("t") with { Name = "bad\nname" }, "tasks[bad\nname].name", "control characters" },
        { TestDatabase.Task("t") with { Name = new string('n', 201) }, $"tasks[{new string('n', 201)}].name", "201 characters" },
    };

    [Theory]
    [MemberData(nameof(BadTasks))]
    public async Task Bad_input_names_the_field_and_the_value_and_saves_nothing(TaskEdit task, string field, string mentions)
    {
        var db = await TestDatabase.CreateAsync(servers, "schedule");

        var error = await Assert.ThrowsAsync<ScheduleValidationException>(
            () => db.ApplyAsync(new ScheduleChange { Tasks = [TestDatabase.Task("good"), task] }));

        var fieldError = Assert.Single(error.Errors);
        Assert.Equal(field, fieldError.Field);
        Assert.Contains(mentions, fieldError.Message, StringComparison.Ordinal);
        await AssertNothingSavedAsync(db);
    }

    [Fact]
    public async Task Every_error_of_a_change_is_reported_at_once()
    {
        var db = await TestDatabase.CreateAsync(servers, "schedule");

        var error = await Assert.ThrowsAsync<ScheduleValidationException>(() => db.ApplyAsync(new ScheduleChange
        {
            Tasks = [TestDatabase.Task("a") with { Priority = 999, Kwargs = "[]" }, TestDatabase.Task("a")],
            Dependencies = [new("a", "a")],
        }));

        Assert.Equal(
            ["tasks[a].priority", "tasks[a].kwargs", "dependencies[a->a]", "tasks[a]"],
            error.Errors.Select(e => e.Field));
        await AssertNothingSavedAsync(db);
    }

    [Fact]
    public async Task A_change_that_closes_a_cycle_is_refused_and_names_it()
    {
        var db = await TestDatabase.CreateAsync(servers, "schedule");
        await db.ApplyAsync(Etl);
        var before = await CountsAsync(db);

        var error = await Assert.ThrowsAsync<ScheduleValidationException>(
            () => db.ApplyAsync(new ScheduleChange { Dependencies = [new("extract", "load")] }));

        var cycle = Assert.Single(error.Errors);
        Assert.Equal("dependencies", cycle.Field);
        Assert.Contains("extract -> load -> transform -> extract", cycle.Message, StringComparison.Ordinal);
        Assert.Equal(before, await CountsAsync(db));
    }

    [Fact]
    public async Task A_two_task_cycle_is_named_like_the_issue_says()
    {
        var db = await TestDatabase.CreateAsync(servers, "schedule");
        await db.ApplyAsync(new ScheduleChange
        {
            Tasks = [TestDatabase.Task("load"), TestDatabase.Task("transform")],
            Dependencies = [new("load", "transform")],
        });

        var error = await Assert.ThrowsAsync<ScheduleValidationException>(
            () => db.ApplyAsync(new ScheduleChange { Dependencies = [new("transform", "load")] }));

        Assert.Contains("load -> transform -> load", Assert.Single(error.Errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Future_edges_do_not_count_towards_cycles()
    {
        var db = await TestDatabase.CreateAsync(servers, "schedule");
        await db.ApplyAsync(Etl);

        var result = await db.ApplyAsync(new ScheduleChange
        {
            Dependencies = [new("extract", "load", FutureDepends: true), new("extract", "extract", FutureDepends: true)],
        });

        Assert.Equal(2, result.DependenciesSaved);
        Assert.Equal(4, await db.CountAsync("task_dependencies"));
    }

    [Fact]
    public async Task Turning_a_future_edge_into_a_plain_one_is_checked_for_cycles()
    {
        var db = await TestDatabase.CreateAsync(servers, "schedule");
        await db.ApplyAsync(Etl with { Dependencies = [.. Etl.Dependencies, new("extract", "load", FutureDepends: true)] });

        var error = await Assert.ThrowsAsync<ScheduleValidationException>(
            () => db.ApplyAsync(new ScheduleChange { Dependencies = [new("extract", "load")] }));

        Assert.Contains("cycle", Assert.Single(error.Errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_writers_cannot_close_a_cycle_between_them()
    {
        var db = await TestDatabase.CreateAsync(servers, "schedule");
        await db.ApplyAsync(new ScheduleChange { Tasks = [TestDatabase.Task("x"), TestDatabase.Task("y")] });

        var outcomes = await Task.WhenAll(
            Outcome(db.ApplyAsync(new ScheduleChange { Dependencies = [new("x", "y")] })),
            Outcome(db.ApplyAsync(new ScheduleChange { Dependencies = [new("y", "x")] })));

        Assert.Single(outcomes, o => o is null);
        Assert.Single(outcomes, o => o?.Contains("cycle", StringComparison.Ordinal) == true);
        Assert.Equal(1, await db.CountAsync("task_dependencies"));

        static async Task<string?> Outcome(Task<ScheduleChangeResult> apply)
        {
            try
            {
                await apply;
                return null;
            }
            catch (ScheduleValidationException ex)
            {
                return ex.Message;
            }
        }
    }

    [Fact]
    public async Task A_dependency_on_an_unknown_task_is_refused()
    {
        var db = await TestDatabase.CreateAsync(servers, "schedule");

        var error = await Assert.ThrowsAsync<ScheduleValidationException>(() => db.ApplyAsync(new ScheduleChange
        {
            Tasks = [TestDatabase.Task("load")],
            Dependencies = [new("load", "lod")],
        }));

        var unknown = Assert.Single(error.Errors);
        Assert.Equal("dependencies[load->lod].dependee", unknown.Field);
        Assert.Contains("'lod'", unknown.Message, StringComparison.Ordinal);
        await AssertNothingSavedAsync(db);
    }

    [Fact]
    public async Task A_dependee_cannot_be_deleted_under_its_dependers()
    {
        var db = await TestDatabase.CreateAsync(servers, "schedule");
        await db.ApplyAsync(Etl);

        var error = await Assert.ThrowsAsync<ScheduleValidationException>(
            () => db.ApplyAsync(new ScheduleChange { DeletedTasks = ["extract"] }));

        Assert.Contains("'transform'", Assert.Single(error.Errors).Message, StringComparison.Ordinal);
        Assert.Equal(3, await db.CountAsync("periodic_tasks"));
    }

    [Fact]
    public async Task Deleting_a_task_with_its_dependers_edges_removes_it_and_records_the_actions()
    {
        var db = await TestDatabase.CreateAsync(servers, "schedule");
        await db.ApplyAsync(Etl);
        var actionsBefore = await db.CountAsync("user_actions");

        var result = await db.ApplyAsync(new ScheduleChange
        {
            DeletedTasks = ["load"],
            DeletedDependencies = [new("transform", "extract")],
        });

        Assert.Equal(new ScheduleChangeResult(0, 0, 1, 0, 1), result);
        Assert.Equal(2, await db.CountAsync("periodic_tasks"));
        Assert.Equal(0, await db.CountAsync("task_dependencies"));
        Assert.Equal(actionsBefore + 2, await db.CountAsync("user_actions"));
    }

    [Fact]
    public async Task Changing_an_edge_moves_its_change_mark_and_time()
    {
        var db = await TestDatabase.CreateAsync(servers, "schedule");
        await db.ApplyAsync(Etl);
        var before = await EdgeAsync(db);
        db.Clock.Advance(TimeSpan.FromMinutes(1));

        await db.ApplyAsync(new ScheduleChange { Dependencies = [new("transform", "extract", FutureDepends: true)] });

        var after = await EdgeAsync(db);
        Assert.True(after.ChangeMark > before.ChangeMark);
        Assert.Equal(before.ChangeDt + Duration.FromMinutes(1), after.ChangeDt);
        Assert.True(after.FutureDepends);

        static async Task<TaskDependency> EdgeAsync(TestDatabase db)
        {
            await using var context = db.Context();
            return await context.TaskDependencies.AsNoTracking()
                .SingleAsync(d => d.Depender.Name == "transform", TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task Editing_a_crontab_records_a_schedule_change()
    {
        var db = await TestDatabase.CreateAsync(servers, "schedule");
        await db.ApplyAsync(Etl);
        long id;
        await using (var context = db.Context())
        {
            id = await context.Crontabs.Where(c => c.Minute == "*/5").Select(c => c.Id).SingleAsync(TestContext.Current.CancellationToken);
        }

        var result = await db.ApplyAsync(new ScheduleChange { Crontabs = [new(id, TestDatabase.Every("*/10 * * * *", "Europe/Berlin"))] });

        Assert.Equal(1, result.Crontabs);
        await using var check = db.Context();
        var crontab = await check.Crontabs.SingleAsync(c => c.Id == id, TestContext.Current.CancellationToken);
        Assert.Equal(("*/10", "Europe/Berlin"), (crontab.Minute, crontab.Timezone));
        Assert.Equal(1, await check.UserActions.CountAsync(a => a.Action == UserActionCodes.ScheduleChanged, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_task_can_be_renamed_by_id()
    {
        var db = await TestDatabase.CreateAsync(servers, "schedule");
        await db.ApplyAsync(Etl);
        long id;
        await using (var context = db.Context())
        {
            id = await context.PeriodicTasks.Where(t => t.Name == "load").Select(t => t.Id).SingleAsync(TestContext.Current.CancellationToken);
        }

        await db.ApplyAsync(new ScheduleChange { Tasks = [TestDatabase.Task("publish", "0 * * * *") with { Id = id }] });

        await using var check = db.Context();
        var renamed = await check.PeriodicTasks.SingleAsync(t => t.Id == id, TestContext.Current.CancellationToken);
        Assert.Equal("publish", renamed.Name);
        Assert.Equal(1, await check.TaskDependencies.CountAsync(d => d.DependerId == id, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_committed_change_notifies_the_beat()
    {
        var db = await TestDatabase.CreateAsync(servers, "schedule");
        var ct = TestContext.Current.CancellationToken;
        await using var listener = new NpgsqlConnection(db.ConnectionString);
        await listener.OpenAsync(ct);
        var notified = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        listener.Notification += (_, e) => notified.TrySetResult(e.Channel);
        await using (var listen = new NpgsqlCommand($"LISTEN {DjagDbContext.ChangesChannel}", listener))
        {
            await listen.ExecuteNonQueryAsync(ct);
        }

        await db.ApplyAsync(Etl);
        await listener.WaitAsync(TimeSpan.FromSeconds(10), ct);

        Assert.True(notified.Task.IsCompleted, "no notification arrived");
        Assert.Equal(DjagDbContext.ChangesChannel, await notified.Task);
    }

    private static async Task AssertNothingSavedAsync(TestDatabase db)
    {
        foreach (var table in AllTables)
        {
            Assert.Equal(0, await db.CountAsync(table));
        }
    }

    private static async Task<long[]> CountsAsync(TestDatabase db) =>
        await Task.WhenAll(AllTables.Select(db.CountAsync));

    [Fact]
    public async Task A_large_change_shares_crontabs_by_value_with_stored_ones_and_ones_edited_in_the_same_change()
    {
        // Stored: "*/5" (extract, transform) and "0 *" (load). The change moves the "*/5" row to "*/10" and adds
        // 2,000 tasks in a chain over "*/10" (that edited row), "0 *" (stored), "*/7" and "*/7 Berlin" (new).
        var db = await TestDatabase.CreateAsync(servers, "schedule");
        var ct = TestContext.Current.CancellationToken;
        await db.ApplyAsync(Etl);
        long edited;
        await using (var context = db.Context())
        {
            edited = await context.Crontabs.Where(c => c.Minute == "*/5").Select(c => c.Id).SingleAsync(ct);
        }

        string[] crons = ["*/10 * * * *", "0 * * * *", "*/7 * * * *"];
        var tasks = Enumerable.Range(0, 2_000)
            .Select(i => i % 4 == 3
                ? TestDatabase.Task($"bulk{i:D4}") with { Crontab = TestDatabase.Every("*/7 * * * *", "Europe/Berlin") }
                : TestDatabase.Task($"bulk{i:D4}", crons[i % 4]))
            .ToList();
        var edges = Enumerable.Range(1, 1_999).Select(i => new DependencyEdit($"bulk{i:D4}", $"bulk{i - 1:D4}")).ToList();

        var result = await db.ApplyAsync(new ScheduleChange
        {
            Crontabs = [new(edited, TestDatabase.Every("*/10 * * * *"))],
            Tasks = tasks,
            Dependencies = [.. edges, new("bulk0000", "load")],
        });

        Assert.Equal(new ScheduleChangeResult(1, 2_000, 0, 2_000, 0), result);
        await using var check = db.Context();
        var usage = await check.PeriodicTasks.GroupBy(t => t.CrontabId).Select(g => new { Id = g.Key, Count = g.Count() }).ToListAsync(ct);
        Assert.Equal(4, await check.Crontabs.CountAsync(ct));
        Assert.Equal(502, usage.Single(u => u.Id == edited).Count); // extract, transform and 500 new ones
        Assert.Equal([500, 500, 501, 502], usage.Select(u => u.Count).Order());
        Assert.Equal(2 + 2_000, await check.TaskDependencies.CountAsync(ct)); // Etl's and the change's
        Assert.Equal(5 + 1 + 2_000 + 2_000, await check.UserActions.CountAsync(ct)); // Etl's, the crontab's, the tasks' and the edges'


        // Changing many edges at once gives each a mark of its own, newer than any before.
        var marksBefore = await check.TaskDependencies.MaxAsync(d => d.ChangeMark, ct);
        await db.ApplyAsync(new ScheduleChange { Dependencies = edges.Select(e => e with { FutureDepends = true }).ToList() });
        var marks = await check.TaskDependencies.AsNoTracking().Where(d => d.FutureDepends).Select(d => d.ChangeMark).ToListAsync(ct);
        Assert.Equal(1_999, marks.Count);
        Assert.Equal(1_999, marks.Distinct().Count());
        Assert.All(marks, m => Assert.True(m > marksBefore));
    }
}
