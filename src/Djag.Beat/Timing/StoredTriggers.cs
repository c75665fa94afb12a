using Djag.Scheduling;
using NodaTime;
using Npgsql;

namespace Djag.Beat.Timing;

/// <summary>What a task's trigger row holds, as far as deciding whether it still stands.</summary>
/// <param name="Expression">The 6-field cron expression.</param>
/// <param name="TimeZoneId">The IANA time zone id.</param>
/// <param name="Misfire">The misfire policy.</param>
/// <param name="GracePeriod">The grace period.</param>
/// <param name="StartAfter">The pointer the trigger was built from.</param>
/// <param name="NextFireTime">The event the trigger waits for; null when it will not fire again.</param>
/// <param name="PreviousFireTimeUtc">The trigger's last fire, which a replacing trigger keeps.</param>
internal sealed record StoredTrigger(
    string Expression,
    string TimeZoneId,
    MisfirePolicy Misfire,
    Duration GracePeriod,
    Instant StartAfter,
    Instant? NextFireTime,
    DateTimeOffset? PreviousFireTimeUtc)
{
    /// <summary>Whether the row describes the same task schedule as <paramref name="timing"/>.</summary>
    public bool HasSameScheduleAs(TaskTiming timing)
    {
        ArgumentNullException.ThrowIfNull(timing);
        return string.Equals(Expression, timing.Schedule.Fields.Expression, StringComparison.Ordinal)
            && string.Equals(TimeZoneId, timing.Schedule.TimeZoneId, StringComparison.Ordinal)
            && Misfire == timing.Misfire
            && GracePeriod == timing.GracePeriod;
    }
}

/// <summary>
/// Reads and copies Djag's trigger rows in <c>qrtz_triggers</c> and <c>qrtz_simprop_triggers</c> directly, in the layout
/// <see cref="DjagTriggerPersistenceDelegate"/> writes, for the two bulk operations that cost too much through Quartz.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><description><see cref="ReadAsync"/>: Quartz's bulk read asks for a chunk of keys as one disjunction, one term
/// per key, which PostgreSQL takes tens of milliseconds to plan, and parses every cron expression again; with 100,000
/// tasks a beat's start-up sync waited 40 s on that. Here a slice is one statement, an index probe per name, and the
/// stored text is compared as it is.</description></item>
/// <item><description><see cref="CopyAsync"/>: Quartz stores a new job and trigger with about eight round trips, 2 ms a
/// task; a first apply of 100,000 tasks took 3 to 5 minutes on that. New triggers differ only in their names and
/// schedules, so Quartz writes one and the others are copied from its rows, a few statements a slice.</description></item>
/// </list>
/// <para>Measurements in bench/RESULTS.md. Every other write, and every replacement or removal, goes through Quartz.</para>
/// </remarks>
internal sealed class StoredTriggers(string connectionString)
{
    private const string Prefix = TimingServiceCollectionExtensions.TablePrefix;

    // Not prepared, in a pool of its own: PostgreSQL makes a prepared statement's generic plan once, for the tables as they
    // were, and keeps it until they are analyzed again. During a first apply they grow from empty to 100,000 rows faster
    // than autovacuum analyzes them. With plans made for empty tables a read of 500 names took 82 ms and a copy of 500
    // triggers 70 ms; planned for the rows there are, 16-19 and 13-14 ms, and a first apply of 100,000 tasks took 33 s
    // rather than 68 s (bench/RESULTS.md). Planning a slice each time costs far less than that.
    private readonly string _connectionString = new NpgsqlConnectionStringBuilder(connectionString) { MaxAutoPrepare = 0 }.ConnectionString;

    // Both lookups by name go through LATERAL ... LIMIT 1, one index probe per name whatever PostgreSQL's statistics say:
    // during a first apply the tables grow faster than autovacuum analyzes them, and a plain "= ANY(@names)" was then
    // planned as a scan of every row in the group (130 ms for 500 names among 100,000 rows, against 7 ms).
    private const string Query = $"""
        SELECT x.* FROM unnest(@names::text[]) AS n(name)
        CROSS JOIN LATERAL (
            SELECT t.trigger_name, t.next_fire_time, t.prev_fire_time,
                   s.str_prop_1, s.str_prop_2, s.time_zone_id, s.long_prop_1, s.long_prop_2
            FROM {Prefix}triggers t
            JOIN {Prefix}simprop_triggers s
              ON s.sched_name = t.sched_name AND s.trigger_name = t.trigger_name AND s.trigger_group = t.trigger_group
            WHERE t.sched_name = @sched AND t.trigger_group = @group AND t.trigger_name = n.name
              AND t.trigger_type = @type AND s.str_prop_3 = @format
            LIMIT 1) AS x
        """;

    /// <summary>The stored triggers of <paramref name="names"/> by task name; a task without a readable Djag trigger is absent.</summary>
    public async Task<Dictionary<string, StoredTrigger>> ReadAsync(IReadOnlyCollection<string> names, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(names);
        var stored = new Dictionary<string, StoredTrigger>(names.Count, StringComparer.Ordinal);
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var read = new NpgsqlBatch(connection);
        read.BatchCommands.Add(Command(Query,
            ("names", names.ToArray()),
            ("type", DjagTriggerPersistenceDelegate.Discriminator),
            ("format", DjagTriggerPersistenceDelegate.FormatVersion)));
        await using var reader = await read.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            // A row this beat does not write counts as no trigger; replacing it, Quartz reads it and says what is wrong.
            if (reader.IsDBNull(3) || reader.IsDBNull(4) || reader.IsDBNull(5) || !Enum.TryParse<MisfirePolicy>(reader.GetString(4), out var misfire))
            {
                continue;
            }

            stored[reader.GetString(0)] = new StoredTrigger(
                reader.GetString(3),
                reader.GetString(5),
                misfire,
                Duration.FromSeconds(reader.GetInt64(7)),
                Instant.FromUnixTimeTicks(reader.GetInt64(6)),
                FromQuartzTicks(reader, 1) is { } next ? Instant.FromDateTimeOffset(next) : null,
                FromQuartzTicks(reader, 2));
        }

        return stored;
    }

    /// <summary>
    /// Stores each of <paramref name="copies"/> (new triggers of tasks without a job) with a job, as copies of the rows
    /// Quartz wrote for <paramref name="template"/> with the copy's own names and schedule, in one transaction holding
    /// Quartz's <c>TRIGGER_ACCESS</c> lock, as Quartz's own writes do. Every column the copy does not set is the
    /// template's, whatever Quartz put there. Each copy's first fire time is computed as Quartz computes it when it
    /// schedules a trigger. The caller signals the scheduler.
    /// </summary>
    /// <returns>The copies stored. The others are left for Quartz: those whose task has a job or trigger by now, or all
    /// of them when the template is no longer as Quartz wrote it (fired, acquired, paused or replaced).</returns>
    public async Task<IReadOnlyList<DjagTrigger>> CopyAsync(DjagTrigger template, IReadOnlyList<DjagTrigger> copies, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(copies);
        foreach (var copy in copies)
        {
            copy.Validate();
            copy.ComputeFirstFireTimeUtc(null);
        }

        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var taken = new HashSet<string>(StringComparer.Ordinal);
        await using (var lookup = new NpgsqlBatch(connection, transaction))
        {
            lookup.BatchCommands.Add(Command(LockQuery));
            lookup.BatchCommands.Add(Command(TakenQuery, ("names", copies.Select(c => c.Key.Name).ToArray())));
            await using var reader = await lookup.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                return []; // no lock row: Quartz has never stored a trigger in these tables, so the template is gone
            }

            await reader.NextResultAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                taken.Add(reader.GetString(0));
            }
        }

        var free = copies.Where(c => !taken.Contains(c.Key.Name)).ToList();
        if (free.Count == 0)
        {
            return [];
        }

        var properties = free.Select(DjagTriggerPersistenceDelegate.PropertiesOf).ToList();
        await using var insert = new NpgsqlBatch(connection, transaction);
        (string, object)[] shared = [("template", template.Key.Name), ("names", free.Select(c => c.Key.Name).ToArray())];
        insert.BatchCommands.Add(Command(CopyJobs, shared));
        insert.BatchCommands.Add(Command(CopyTriggers, [.. shared,
            ("descriptions", free.Select(c => c.Description).ToArray()),
            ("nexts", free.Select(c => c.NextFireTimeUtc!.Value.UtcTicks).ToArray()),
            ("starts", free.Select(c => c.StartTimeUtc.UtcTicks).ToArray())]));
        insert.BatchCommands.Add(Command(CopyProperties, [.. shared,
            ("expressions", properties.Select(p => p.String1).ToArray()),
            ("misfires", properties.Select(p => p.String2).ToArray()),
            ("zones", properties.Select(p => p.TimeZoneId).ToArray()),
            ("starts_after", properties.Select(p => p.Long1).ToArray()),
            ("graces", properties.Select(p => p.Long2).ToArray())]));
        await insert.ExecuteNonQueryAsync(cancellationToken);
        if (insert.BatchCommands.Any<NpgsqlBatchCommand>(c => c.RecordsAffected != free.Count))
        {
            return []; // the template is not as Quartz wrote it; the transaction rolls back
        }

        await transaction.CommitAsync(cancellationToken);
        return free;
    }

    /// <summary>A statement with the scheduler name and Djag's group as <c>@sched</c> and <c>@group</c>, and <paramref name="parameters"/>.</summary>
    private static NpgsqlBatchCommand Command(string sql, params (string Name, object Value)[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.AddWithValue("sched", TimingServiceCollectionExtensions.SchedulerName);
        command.Parameters.AddWithValue("group", TaskTimer.Group);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return command;
    }

    // The row lock Quartz's lock handler takes for TRIGGER_ACCESS (it inserted the row when it stored the template).
    private const string LockQuery = $"SELECT lock_name FROM {Prefix}locks WHERE sched_name = @sched AND lock_name = 'TRIGGER_ACCESS' FOR UPDATE";

    // A task with a trigger has a job (a foreign key), so the jobs say which names are taken.
    private const string TakenQuery = $"""
        SELECT x.job_name FROM unnest(@names::text[]) AS n(name)
        CROSS JOIN LATERAL (
            SELECT job_name FROM {Prefix}job_details WHERE sched_name = @sched AND job_group = @group AND job_name = n.name LIMIT 1) AS x
        """;

    // The template's trigger as Quartz stored it, not yet fired, acquired or paused.
    private const string AsStored = $"""
        EXISTS (SELECT FROM {Prefix}triggers t WHERE t.sched_name = @sched AND t.trigger_group = @group AND t.trigger_name = @template
          AND t.trigger_state = 'WAITING' AND t.prev_fire_time IS NULL AND t.misfire_orig_fire_time IS NULL AND t.pause_reason IS NULL)
        """;

    // Each copy is the template's row with the named columns replaced (jsonb_populate_record keeps the others).
    private const string CopyJobs = $"""
        INSERT INTO {Prefix}job_details
        SELECT r.* FROM {Prefix}job_details j
        CROSS JOIN unnest(@names::text[]) AS n(name)
        CROSS JOIN LATERAL jsonb_populate_record(j, jsonb_build_object('job_name', n.name)) AS r
        WHERE j.sched_name = @sched AND j.job_group = @group AND j.job_name = @template AND {AsStored}
        """;

    private const string CopyTriggers = $"""
        INSERT INTO {Prefix}triggers
        SELECT r.* FROM {Prefix}triggers t
        CROSS JOIN unnest(@names::text[], @descriptions::text[], @nexts::bigint[], @starts::bigint[]) AS n(name, description, next, start)
        CROSS JOIN LATERAL jsonb_populate_record(t, jsonb_build_object(
            'trigger_name', n.name, 'job_name', n.name, 'description', n.description, 'next_fire_time', n.next, 'start_time', n.start)) AS r
        WHERE t.sched_name = @sched AND t.trigger_group = @group AND t.trigger_name = @template AND {AsStored}
        """;

    private const string CopyProperties = $"""
        INSERT INTO {Prefix}simprop_triggers
        SELECT r.* FROM {Prefix}simprop_triggers s
        CROSS JOIN unnest(@names::text[], @expressions::text[], @misfires::text[], @zones::text[], @starts_after::bigint[], @graces::bigint[])
            AS n(name, expression, misfire, zone, start_after, grace)
        CROSS JOIN LATERAL jsonb_populate_record(s, jsonb_build_object('trigger_name', n.name, 'str_prop_1', n.expression,
            'str_prop_2', n.misfire, 'time_zone_id', n.zone, 'long_prop_1', n.start_after, 'long_prop_2', n.grace)) AS r
        WHERE s.sched_name = @sched AND s.trigger_group = @group AND s.trigger_name = @template AND {AsStored}
        """;

    /// <summary>Quartz stores a time as <see cref="DateTimeOffset.UtcTicks"/>, and none as null or a value ≤ 0.</summary>
    private static DateTimeOffset? FromQuartzTicks(NpgsqlDataReader reader, int ordinal) =>
        !reader.IsDBNull(ordinal) && reader.GetInt64(ordinal) is > 0 and var ticks ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;
}
