using System.Data.Common;
using Djag.Persistence;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Djag.Admin.Data;

/// <summary>A trigger as the Quartz job store holds it.</summary>
public sealed record QuartzTrigger(
    string Name, string Group, string State, string Type, DateTimeOffset? NextFire, DateTimeOffset? PreviousFire, string? Cron, string? TimeZone);

/// <summary>A beat instance checked in to the Quartz cluster.</summary>
public sealed record QuartzInstance(string Name, DateTimeOffset LastCheckin, TimeSpan Interval);

/// <summary>
/// Reads the <c>qrtz_</c> tables (public schema, written by the beats) with plain SQL on the admin's own
/// database connection; they are Quartz's, not part of Djag's EF model.
/// </summary>
public sealed class QuartzTriggers(DjagDbContext db)
{
    private const string TriggersSql = """
        SELECT t.trigger_name, t.trigger_group, t.trigger_state, t.trigger_type, t.next_fire_time, t.prev_fire_time,
               p.str_prop_1, p.time_zone_id
        FROM public.qrtz_triggers t
        LEFT JOIN public.qrtz_simprop_triggers p USING (sched_name, trigger_name, trigger_group)
        ORDER BY t.next_fire_time NULLS LAST, t.trigger_name
        LIMIT 1000
        """;

    private const string InstancesSql = "SELECT instance_name, last_checkin_time, checkin_interval FROM public.qrtz_scheduler_state ORDER BY instance_name";

    /// <summary>The triggers and instances, or null when the beat has not created the Quartz tables yet.</summary>
    public async Task<(IReadOnlyList<QuartzTrigger> Triggers, IReadOnlyList<QuartzInstance> Instances)?> ReadAsync(CancellationToken cancellationToken)
    {
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            var triggers = await QueryAsync(connection, TriggersSql, r => new QuartzTrigger(
                r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), Ticks(r, 4), Ticks(r, 5),
                r.IsDBNull(6) ? null : r.GetString(6), r.IsDBNull(7) ? null : r.GetString(7)), cancellationToken);
            var instances = await QueryAsync(connection, InstancesSql, r => new QuartzInstance(
                r.GetString(0), Ticks(r, 1) ?? DateTimeOffset.MinValue, TimeSpan.FromMilliseconds(r.GetInt64(2))), cancellationToken);
            return (triggers, instances);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return null;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private static async Task<List<T>> QueryAsync<T>(DbConnection connection, string sql, Func<DbDataReader, T> map, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync(ct);
        var rows = new List<T>();
        while (await reader.ReadAsync(ct))
        {
            rows.Add(map(reader));
        }

        return rows;
    }

    /// <summary>Quartz stores times as .NET ticks (UTC); a missing time is NULL or negative.</summary>
    private static DateTimeOffset? Ticks(DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) || reader.GetInt64(ordinal) <= 0 ? null : new DateTimeOffset(reader.GetInt64(ordinal), TimeSpan.Zero);
}
