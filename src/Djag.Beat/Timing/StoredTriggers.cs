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
/// Reads the stored Djag triggers of named tasks straight from <c>qrtz_triggers</c> and <c>qrtz_simprop_triggers</c>,
/// in the layout <see cref="DjagTriggerPersistenceDelegate"/> writes, so <see cref="TaskTimer"/> can tell which triggers
/// still stand without loading them through Quartz. Quartz's bulk read asks for a chunk of keys as one disjunction,
/// one term per key, which PostgreSQL takes tens of milliseconds to plan, and parses every cron expression again; with
/// 100,000 tasks a beat's start-up sync waited 40 s on that (bench/RESULTS.md). Here a slice is one indexed lookup of
/// a name array, and the stored text is compared as it is.
/// Triggers are still written only through Quartz.
/// </summary>
internal sealed class StoredTriggers(string connectionString)
{
    private static readonly string Query = $"""
        SELECT t.trigger_name, t.next_fire_time, t.prev_fire_time,
               s.str_prop_1, s.str_prop_2, s.time_zone_id, s.long_prop_1, s.long_prop_2
        FROM {TimingServiceCollectionExtensions.TablePrefix}triggers t
        JOIN {TimingServiceCollectionExtensions.TablePrefix}simprop_triggers s
          ON s.sched_name = t.sched_name AND s.trigger_name = t.trigger_name AND s.trigger_group = t.trigger_group
        WHERE t.sched_name = @sched AND t.trigger_group = @group AND t.trigger_name = ANY(@names)
          AND t.trigger_type = @type AND s.str_prop_3 = @format
        """;

    /// <summary>The stored triggers of <paramref name="names"/> by task name; a task without a readable Djag trigger is absent.</summary>
    public async Task<Dictionary<string, StoredTrigger>> ReadAsync(IReadOnlyCollection<string> names, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(names);
        var stored = new Dictionary<string, StoredTrigger>(names.Count, StringComparer.Ordinal);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(Query, connection);
        command.Parameters.AddWithValue("sched", TimingServiceCollectionExtensions.SchedulerName);
        command.Parameters.AddWithValue("group", TaskTimer.Group);
        command.Parameters.AddWithValue("names", names.ToArray());
        command.Parameters.AddWithValue("type", DjagTriggerPersistenceDelegate.Discriminator);
        command.Parameters.AddWithValue("format", DjagTriggerPersistenceDelegate.FormatVersion);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
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

    /// <summary>Quartz stores a time as <see cref="DateTimeOffset.UtcTicks"/>, and none as null or a value ≤ 0.</summary>
    private static DateTimeOffset? FromQuartzTicks(NpgsqlDataReader reader, int ordinal) =>
        !reader.IsDBNull(ordinal) && reader.GetInt64(ordinal) is > 0 and var ticks ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;
}
