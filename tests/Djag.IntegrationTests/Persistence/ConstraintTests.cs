using Djag.IntegrationTests.Infrastructure;
using Npgsql;

namespace Djag.IntegrationTests.Persistence;

/// <summary>
/// The database holds its rules even against a writer that bypasses Djag: each bad row is refused
/// by the named constraint, and the table is left as it was.
/// </summary>
public sealed class ConstraintTests(ServersFixture servers)
{
    private const string Seed = """
        INSERT INTO djag.crontabs (second, minute, hour, day_of_month, month_of_year, day_of_week, timezone)
            VALUES ('0', '*', '*', '*', '*', '*', 'UTC');
        INSERT INTO djag.periodic_tasks (name, task, crontab_id, cron_base, priority, enabled, skip_misfire, coalesce_misfire, max_retries, retry_backoff, date_changed)
            VALUES ('extract', 'etl.extract', 1, now(), 0, true, false, false, 0, 0, now()),
                   ('transform', 'etl.transform', 1, now(), 0, true, false, false, 0, 0, now());
        INSERT INTO djag.task_dependencies (depender_id, dependee_id, future_depends, condition, change_dt)
            VALUES (2, 1, false, 'success', now());
        INSERT INTO djag.runs (task_id, cron, attempt, state, dispatched_at) VALUES (1, '2026-03-01T00:00:00Z', 1, 'dispatched', now());
        """;

    private const string Task3 = "INSERT INTO djag.periodic_tasks (name, task, crontab_id, cron_base, priority, enabled, skip_misfire, coalesce_misfire, max_retries, retry_backoff, date_changed) VALUES";

    public static TheoryData<string, string, string> Violations => new()
    {
        { "periodic_tasks", $"{Task3} ('extract', 'x', 1, now(), 0, true, false, false, 0, 0, now())", "ix_periodic_tasks_name" },
        { "periodic_tasks", $"{Task3} ('p', 'x', 1, now(), 256, true, false, false, 0, 0, now())", "ck_periodic_tasks_priority" },
        { "periodic_tasks", $"{Task3} ('p', 'x', 1, now(), -1, true, false, false, 0, 0, now())", "ck_periodic_tasks_priority" },
        { "periodic_tasks", "UPDATE djag.periodic_tasks SET skip_misfire = true, coalesce_misfire = true, grace_period = 30 WHERE id = 1", "ck_periodic_tasks_one_misfire_policy" },
        { "periodic_tasks", $"{Task3} ('p', 'x', 1, now(), 0, true, true, false, 0, 0, now())", "ck_periodic_tasks_grace_with_policy" },
        { "periodic_tasks", $"{Task3} ('p', 'x', 1, now(), 0, true, false, true, 0, 0, now())", "ck_periodic_tasks_grace_with_policy" },
        { "periodic_tasks", $"{Task3} ('', 'x', 1, now(), 0, true, false, false, 0, 0, now())", "ck_periodic_tasks_name" },
        { "periodic_tasks", $"{Task3} ('p', 'x', 1, now(), 0, true, false, false, -1, 0, now())", "ck_periodic_tasks_retries" },
        { "periodic_tasks", "UPDATE djag.periodic_tasks SET args = '{\"a\": 1}' WHERE id = 1", "ck_periodic_tasks_args_array" },
        { "periodic_tasks", "UPDATE djag.periodic_tasks SET args = '\"text\"' WHERE id = 1", "ck_periodic_tasks_args_array" },
        { "periodic_tasks", "UPDATE djag.periodic_tasks SET kwargs = '[1, 2]' WHERE id = 1", "ck_periodic_tasks_kwargs_object" },
        { "periodic_tasks", "UPDATE djag.periodic_tasks SET headers = 'null' WHERE id = 1", "ck_periodic_tasks_headers_object" },
        { "periodic_tasks", "UPDATE djag.periodic_tasks SET grace_period = -5 WHERE id = 1", "ck_periodic_tasks_grace_period" },
        { "periodic_tasks", "UPDATE djag.periodic_tasks SET queue = 'a.b' WHERE id = 1", "ck_periodic_tasks_queue" },
        { "periodic_tasks", "UPDATE djag.periodic_tasks SET max_running = 0 WHERE id = 1", "ck_periodic_tasks_max_running" },
        { "periodic_tasks", "UPDATE djag.periodic_tasks SET running = -1 WHERE id = 1", "ck_periodic_tasks_running" },
        { "periodic_tasks", "DELETE FROM djag.periodic_tasks WHERE id = 1", "fk_task_dependencies_periodic_tasks_dependee_id" },
        { "crontabs", "DELETE FROM djag.crontabs WHERE id = 1", "fk_periodic_tasks_crontabs_crontab_id" },
        { "task_dependencies", "INSERT INTO djag.task_dependencies (depender_id, dependee_id, future_depends, condition, change_dt) VALUES (2, 1, true, 'success', now())", "ix_task_dependencies_depender_id_dependee_id" },
        { "task_dependencies", "INSERT INTO djag.task_dependencies (depender_id, dependee_id, future_depends, condition, change_dt) VALUES (1, 1, false, 'success', now())", "ck_task_dependencies_self_only_future" },
        { "task_dependencies", "INSERT INTO djag.task_dependencies (depender_id, dependee_id, future_depends, condition, change_dt) VALUES (1, 2, false, 'sometimes', now())", "ck_task_dependencies_condition" },
        { "runs", "INSERT INTO djag.runs (task_id, cron, attempt, state, dispatched_at) VALUES (1, '2026-03-01T00:00:00Z', 1, 'dispatched', now())", "ix_runs_task_id_cron_attempt" },
        { "runs", "INSERT INTO djag.runs (task_id, cron, attempt, state, dispatched_at) VALUES (1, '2026-03-01T00:01:00Z', 0, 'dispatched', now())", "ck_runs_attempt" },
        { "runs", "INSERT INTO djag.runs (task_id, cron, attempt, state, dispatched_at) VALUES (1, '2026-03-01T00:01:00Z', 1, 'exploded', now())", "ck_runs_state" },
        { "runs", "INSERT INTO djag.runs (task_id, cron, attempt, state, dispatched_at, outcome) VALUES (1, '2026-03-01T00:01:00Z', 1, 'running', now(), 'success')", "ck_runs_outcome_when_finished" },
        { "runs", "INSERT INTO djag.runs (task_id, cron, attempt, state, dispatched_at) VALUES (1, '2026-03-01T00:01:00Z', 1, 'finished', now())", "ck_runs_outcome_when_finished" },
        { "runs", "INSERT INTO djag.runs (task_id, cron, attempt, state) VALUES (1, '2026-03-01T00:01:00Z', 1, 'dispatched')", "ck_runs_dispatched_at" },
        { "user_actions", "INSERT INTO djag.user_actions (action, payload, create_dt) VALUES ('', '{}', now())", "ck_user_actions_action" },
    };

    [Theory]
    [MemberData(nameof(Violations))]
    public async Task A_writer_bypassing_the_app_is_refused(string table, string sql, string constraint)
    {
        var db = await TestDatabase.CreateAsync(servers, "constraints");
        await db.ExecuteAsync(Seed);
        var before = await SnapshotAsync(db, table);

        var error = await Assert.ThrowsAsync<PostgresException>(() => db.ExecuteAsync(sql));

        Assert.Equal(constraint, error.ConstraintName);
        Assert.Equal(before, await SnapshotAsync(db, table));
    }

    [Fact]
    public async Task The_seed_rows_themselves_are_valid()
    {
        var db = await TestDatabase.CreateAsync(servers, "constraints");

        await db.ExecuteAsync(Seed);

        Assert.Equal(2, await db.CountAsync("periodic_tasks"));
        Assert.Equal(1, await db.CountAsync("task_dependencies"));
        Assert.Equal(1, await db.CountAsync("runs"));
    }

    [Fact]
    public async Task A_task_may_depend_on_itself_with_future_depends()
    {
        var db = await TestDatabase.CreateAsync(servers, "constraints");
        await db.ExecuteAsync(Seed);

        await db.ExecuteAsync("INSERT INTO djag.task_dependencies (depender_id, dependee_id, future_depends, condition, change_dt) VALUES (1, 1, true, 'completion', now())");

        Assert.Equal(2, await db.CountAsync("task_dependencies"));
    }

    [Fact]
    public async Task Deleting_a_depender_takes_its_edges_and_runs_with_it()
    {
        var db = await TestDatabase.CreateAsync(servers, "constraints");
        await db.ExecuteAsync(Seed);
        await db.ExecuteAsync("INSERT INTO djag.runs (task_id, cron, attempt, state, dispatched_at) VALUES (2, '2026-03-01T00:00:00Z', 1, 'dispatched', now())");

        await db.ExecuteAsync("DELETE FROM djag.periodic_tasks WHERE id = 2");

        Assert.Equal(0, await db.CountAsync("task_dependencies"));
        Assert.Equal(1, await db.CountAsync("runs"));
    }

    private static async Task<string> SnapshotAsync(TestDatabase db, string table)
    {
        await using var connection = new NpgsqlConnection(db.ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand($"SELECT coalesce(json_agg(t ORDER BY t.id)::text, '[]') FROM djag.{table} t", connection);
        return (string)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }
}
