using Djag.Persistence.Runs;
using NodaTime;
using Npgsql;

namespace Djag.Persistence.Schedules;

public static class SchedulerWrites
{
    /// <summary>
    /// Writes the beat's bookkeeping of many tasks in one round trip in the caller's transaction: their scheduler state
    /// in one <c>UPDATE</c>, the runs it finished in another, and the new runs in one <c>INSERT</c>, their ids set from its
    /// <c>RETURNING</c>. <c>SaveChanges</c> would send a statement for every task and run, a hundred for fifty fires.
    /// </summary>
    /// <remarks>
    /// The caller's transaction holds the rows' locks. Of a task only its scheduler state is written; of a finished run
    /// what finishing sets (state, outcome, error, output, worker, start and finish).
    /// </remarks>
    public static async Task WriteSchedulerStateAsync(
        this DjagDbContext db, IReadOnlyCollection<PeriodicTask> tasks, IReadOnlyList<Run> finished, IReadOnlyList<Run> inserted,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(tasks);
        ArgumentNullException.ThrowIfNull(finished);
        ArgumentNullException.ThrowIfNull(inserted);
        if (tasks.Count == 0 && finished.Count == 0 && inserted.Count == 0)
        {
            return;
        }

        await using var batch = await db.CreateBatchAsync(cancellationToken);
        var states = tasks.Select(t => t.State).ToList();

        // The insert first: the reader starts on the first result, and Npgsql's results skip statements that return no rows.
        batch.BatchCommands.Add(new("""
            INSERT INTO djag.runs (task_id, cron, attempt, origin, state, dispatched_at, not_before, reason)
            SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::int[], $4::text[], $5::text[], $6::timestamptz[],
                                 $7::timestamptz[], $8::text[])
            RETURNING id, task_id, cron, attempt
            """)
        {
            Parameters =
            {
                Column(inserted, r => r.TaskId), Column(inserted, r => r.Cron), Column(inserted, r => r.Attempt), Column(inserted, r => r.Origin),
                Column(inserted, r => r.State), Column(inserted, r => r.DispatchedAt), Column(inserted, r => r.NotBefore), Column(inserted, r => r.Reason),
            },
        });
        batch.BatchCommands.Add(new("""
            UPDATE djag.periodic_tasks AS t SET
                running = s.running, last_cron = s.last_cron, last_cron_start = s.last_cron_start, last_cron_end = s.last_cron_end,
                total_run_count = s.total_run_count, cron_pointer = s.cron_pointer, last_start_mark = s.last_start_mark,
                last_success_mark = s.last_success_mark, last_completion_mark = s.last_completion_mark
            FROM unnest($1::bigint[], $2::int[], $3::timestamptz[], $4::timestamptz[], $5::timestamptz[], $6::bigint[],
                        $7::timestamptz[], $8::bigint[], $9::bigint[], $10::bigint[])
                AS s(id, running, last_cron, last_cron_start, last_cron_end, total_run_count, cron_pointer,
                     last_start_mark, last_success_mark, last_completion_mark)
            WHERE t.id = s.id
            """)
        {
            Parameters =
            {
                Column(tasks, t => t.Id), Column(states, s => s.Running), Column(states, s => s.LastCron),
                Column(states, s => s.LastCronStart), Column(states, s => s.LastCronEnd), Column(states, s => s.TotalRunCount),
                Column(states, s => s.CronPointer), Column(states, s => s.LastStartMark), Column(states, s => s.LastSuccessMark),
                Column(states, s => s.LastCompletionMark),
            },
        });
        batch.BatchCommands.Add(new("""
            UPDATE djag.runs AS r SET
                state = f.state, outcome = f.outcome, error = f.error, output_tail = f.output_tail, worker = f.worker,
                started_at = f.started_at, finished_at = f.finished_at
            FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::timestamptz[])
                AS f(id, state, outcome, error, output_tail, worker, started_at, finished_at)
            WHERE r.id = f.id
            """)
        {
            Parameters =
            {
                Column(finished, r => r.Id), Column(finished, r => r.State), Column(finished, r => r.Outcome), Column(finished, r => r.Error),
                Column(finished, r => r.OutputTail), Column(finished, r => r.Worker), Column(finished, r => r.StartedAt), Column(finished, r => r.FinishedAt),
            },
        });
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);

        // The unique (task, cron, attempt) index makes each inserted row's key unique.
        var byKey = inserted.ToDictionary(r => (r.TaskId, r.Cron, r.Attempt));
        while (await reader.ReadAsync(cancellationToken))
        {
            byKey[(reader.GetInt64(1), reader.GetFieldValue<Instant>(2), reader.GetInt32(3))].Id = reader.GetInt64(0);
        }

        // Reads to the end, so an update that failed throws here rather than leaving the transaction to roll back at its commit.
        while (await reader.NextResultAsync(cancellationToken))
        {
        }
    }

    private static NpgsqlParameter Column<TItem, TValue>(IEnumerable<TItem> items, Func<TItem, TValue> value) =>
        new() { Value = items.Select(value).ToArray() };
}
