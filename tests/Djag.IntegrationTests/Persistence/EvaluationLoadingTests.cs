using Djag.IntegrationTests.Infrastructure;
using Djag.Persistence.Schedules;
using Djag.Scheduling;
using NodaTime;
using Npgsql;

namespace Djag.IntegrationTests.Persistence;

public sealed class EvaluationLoadingTests(ServersFixture servers)
{
    [Fact]
    public async Task The_named_tasks_come_locked_in_id_order_with_their_crontabs_inputs_and_a_mark_per_name()
    {
        var ct = TestContext.Current.CancellationToken;
        var db = await TestDatabase.CreateAsync(servers, "evalload");
        await db.ApplyAsync(new ScheduleChange
        {
            Tasks = [TestDatabase.Task("extract"), TestDatabase.Task("transform"), TestDatabase.Task("load", "30 2 * * *") with { Enabled = false }],
            Dependencies = [new("transform", "extract"), new("load", "transform", Condition: DependencyCondition.Completion), new("load", "load", FutureDepends: true)],
        });
        var pointer = Instant.FromUtc(2026, 3, 1, 11, 55);
        await db.ExecuteAsync($"""
            UPDATE djag.periodic_tasks SET running = 1, cron_pointer = '{pointer}', last_start_mark = 901, last_success_mark = 900,
                last_completion_mark = 900, total_run_count = 4, enabled = false
            WHERE name = 'transform'
            """);

        await using var context = db.Context();
        await using var transaction = await context.Database.BeginTransactionAsync(ct);
        var (tasks, inputs, marks) = await context.LockForEvaluationAsync(["load", "transform", "missing"], ct);

        Assert.Equal(["load", "transform"], tasks.Select(t => t.Name).Order());
        Assert.Equal(tasks.Select(t => t.Id).Order(), tasks.Select(t => t.Id));
        var loadTask = tasks.Single(t => t.Name == "load");
        Assert.Equal("0 30 2 * * *", loadTask.Crontab.Expression);
        Assert.Equal(loadTask.CrontabId, loadTask.Crontab.Id);
        Assert.False(loadTask.Enabled);

        var transform = new TaskState(pointer, null, 1, 901, 900, 900, TotalRunCount: 4);
        var load = inputs[loadTask.Id];
        Assert.Equal(
            [("load", "load", true, DependencyCondition.Success), ("load", "transform", false, DependencyCondition.Completion)],
            load.Edges.Select(e => (e.Depender, e.Dependee, e.FutureDepends, e.Condition)).Order());
        Assert.All(load.Edges, e => Assert.True(e.ChangedAt > 0));
        Assert.Equal(["transform"], load.Dependees.Keys);
        Assert.Equal(new DependeeStatus(transform, Enabled: false), load.Dependees["transform"]);
        var transformInput = inputs[tasks.Single(t => t.Name == "transform").Id];
        Assert.Equal(["extract"], transformInput.Dependees.Keys);
        Assert.Equal(new DependeeStatus(TaskState.Empty), transformInput.Dependees["extract"]);

        Assert.Equal(3, marks.Count);
        Assert.Equal(marks.Order().Distinct(), marks);
        Assert.True(marks[0] > load.Edges.Max(e => e.ChangedAt), "marks are drawn after the edges' marks");

        // The rows stay locked until the transaction ends.
        var locked = await Assert.ThrowsAsync<PostgresException>(() => db.ExecuteAsync("SELECT 1 FROM djag.periodic_tasks WHERE name = 'load' FOR UPDATE NOWAIT"));
        Assert.Equal(PostgresErrorCodes.LockNotAvailable, locked.SqlState);
        await db.ExecuteAsync("SELECT 1 FROM djag.periodic_tasks WHERE name = 'extract' FOR UPDATE NOWAIT");
    }

    [Fact]
    public async Task A_task_changed_while_its_lock_was_awaited_comes_as_changed_with_its_new_crontab()
    {
        var ct = TestContext.Current.CancellationToken;
        var db = await TestDatabase.CreateAsync(servers, "evalmove");
        await db.ApplyAsync(new ScheduleChange { Tasks = [TestDatabase.Task("a")] });

        await using var mover = new NpgsqlConnection(db.ConnectionString);
        await mover.OpenAsync(ct);
        await using var move = await mover.BeginTransactionAsync(ct);
        await using (var command = new NpgsqlCommand(
            """
            SELECT 1 FROM djag.periodic_tasks WHERE name = 'a' FOR UPDATE;
            WITH c AS (INSERT INTO djag.crontabs (second, minute, hour, day_of_month, month_of_year, day_of_week, timezone)
                       VALUES ('0', '15', '3', '*', '*', '*', 'Europe/Paris') RETURNING id)
            UPDATE djag.periodic_tasks SET crontab_id = (SELECT id FROM c), running = 3, last_start_mark = 77, queue = 'moved' WHERE name = 'a';
            """, mover, move))
        {
            await command.ExecuteNonQueryAsync(ct);
        }

        await using var context = db.Context();
        await using var transaction = await context.Database.BeginTransactionAsync(ct);
        var loading = context.LockForEvaluationAsync(["a"], ct);
        await db.WaitForLockWaitAsync("FOR UPDATE", TimeSpan.FromSeconds(30));
        Assert.False(loading.IsCompleted);
        await move.CommitAsync(ct);

        var task = Assert.Single((await loading).Tasks);
        Assert.Equal("0 15 3 * * *", task.Crontab.Expression);
        Assert.Equal("Europe/Paris", task.Crontab.Timezone);
        Assert.Equal("moved", task.Queue);
        Assert.Equal((3, 77L), (task.State.Running, task.State.LastStartMark));
    }
}
