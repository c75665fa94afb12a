using System.Data;
using System.Text.Json;
using Djag.Beat.Dispatch;
using Djag.Beat.Hosting;
using Djag.Hosting.Configuration;
using Djag.Beat.Timing;
using Djag.Persistence;
using Djag.Persistence.Schedules;
using Djag.Persistence.UserActions;
using Djag.Scheduling;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NodaTime;
using Npgsql;

namespace Djag.Beat.Changes;

/// <summary>
/// Applies schedule changes within a second: the write path's <c>NOTIFY</c> wakes this service, which
/// consumes the internal user actions (moving them to the audit table in the same transaction),
/// reschedules the affected tasks' triggers and re-evaluates them. <c>ScheduleCheckInterval</c> is the
/// fallback when a notification was missed. At start every enabled task's trigger is synchronized.
/// </summary>
/// <remarks>
/// The re-evaluations are requested, not awaited, after the triggers are in place: a change is in effect
/// once its trigger is stored, and must not wait for the dispatches a previous change set off.
/// </remarks>
internal sealed partial class ChangeListener(
    IDbContextFactory<DjagDbContext> factory,
    IOptions<ConnectionOptions> connection,
    IOptions<BeatOptions> options,
    TaskTimer timer,
    Evaluations evaluations,
    TimeProvider time,
    ILogger<ChangeListener> logger) : BackgroundService
{
    /// <summary>User actions consumed per transaction.</summary>
    private const int BatchSize = 10_000;

    /// <summary>
    /// Moves up to <c>@batch</c> internal user actions (<c>@actions</c>), oldest first, to the audit table, stamped
    /// <c>@now</c>, and returns their payloads: one statement, so one atomic step however many actions a large change
    /// wrote. The actions are taken into an array, not joined: the table is empty between changes, and with statistics
    /// that say so (its last ANALYZE saw only the deleted actions of an earlier change) the planner joined 10,000 actions
    /// by reading them once per action, 7.4 s in psql and 3.3-8 s a change in bench runs, against 30 ms for this form.
    /// </summary>
    internal const string ConsumeActionsSql = """
        WITH moved AS (
            DELETE FROM djag.user_actions
            WHERE id = ANY (ARRAY(
                SELECT id FROM djag.user_actions WHERE action = ANY (@actions)
                ORDER BY id LIMIT @batch FOR UPDATE SKIP LOCKED))
            RETURNING id, action, payload, create_dt),
        audited AS (
            INSERT INTO djag.user_action_audits (action, payload, create_dt, delete_dt)
            SELECT action, payload, create_dt, @now FROM moved ORDER BY id)
        SELECT payload::text AS "Value" FROM moved
        """;

    internal static NpgsqlParameter[] ConsumeActionsParameters(Instant now) =>
    [
        new("actions", new[] { UserActionCodes.TaskChanged, UserActionCodes.ScheduleChanged, UserActionCodes.DependencyChanged }),
        new("batch", BatchSize),
        new("now", now),
    ];

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Startup-critical: a beat whose triggers cannot be synchronized must not report itself started.
        // Every pending action is consumed; the sync below covers the tasks they touch.
        while ((await ConsumeActionsAsync(cancellationToken)).Consumed == BatchSize)
        {
        }

        await timer.SyncAsync(await TimingsAsync(null, cancellationToken), cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var fallback = TimeSpan.FromSeconds(options.Value.ScheduleCheckInterval);
        var retry = Backoff.First;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var listener = new NpgsqlConnection(connection.Value.Database);
                await listener.OpenAsync(stoppingToken);
                await using (var listen = new NpgsqlCommand($"LISTEN {DjagDbContext.ChangesChannel}", listener))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                retry = Backoff.First;
                while (!stoppingToken.IsCancellationRequested)
                {
                    await ApplyChangesAsync(stoppingToken);
                    await listener.WaitAsync(fallback, stoppingToken);
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogListenFailed(logger, ex, retry);
                await Task.Delay(retry, time, stoppingToken);
                retry = Backoff.Next(retry);
            }
        }
    }

    /// <summary>Consumes pending actions, batch by batch until none is left, and reschedules and re-evaluates what they touch.</summary>
    internal async Task ApplyChangesAsync(CancellationToken ct)
    {
        // One large change writes more actions than a batch holds; the rest must not wait for the fallback poll.
        while (await ApplyBatchAsync(ct) == BatchSize)
        {
        }
    }

    /// <summary>Returns how many actions the batch consumed.</summary>
    private async Task<int> ApplyBatchAsync(CancellationToken ct)
    {
        var (consumed, changed) = await ConsumeActionsAsync(ct);
        if (changed.Count == 0)
        {
            return consumed;
        }

        // The triggers of the whole batch first, in bulk; a task that is now disabled or gone loses its job.
        var timings = await TimingsAsync(changed, ct);
        var enabled = timings.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        await timer.ApplyAsync(timings, changed.Where(n => !enabled.Contains(n)).ToList(), ct);

        // Then the tasks that may have something to do now. One whose next event after its pointer is still
        // ahead has nothing due, skipped or coalesced, so evaluating it would change nothing: its trigger fires it.
        var now = Instant.FromDateTimeOffset(time.GetUtcNow());
        foreach (var timing in timings.Where(t => t.Schedule.NextAfter(t.StartAfter) is { } next && next <= now))
        {
            _ = EvaluateAsync(timing.Name);
        }

        return consumed;
    }

    private async Task EvaluateAsync(string name)
    {
        try
        {
            await evaluations.EvaluateAsync(name);
        }
#pragma warning disable CA1031 // One task's failed evaluation must not stop the others'; its trigger evaluates it again.
        catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
        {
            LogEvaluationFailed(logger, ex, name);
        }
    }

    /// <summary>Moves the internal user actions to the audit table; returns the names of the tasks they touch.</summary>
    private async Task<(int Consumed, IReadOnlyCollection<string> Tasks)> ConsumeActionsAsync(CancellationToken ct)
    {
        await using var db = await factory.CreateDbContextAsync(ct);
        var now = Instant.FromDateTimeOffset(time.GetUtcNow());
        var payloads = await db.Database.SqlQueryRaw<string>(ConsumeActionsSql, ConsumeActionsParameters(now)).ToListAsync(ct);
        if (payloads.Count == 0)
        {
            return (0, []);
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        var crontabs = new List<long>();
        foreach (var text in payloads)
        {
            using var payload = JsonDocument.Parse(text);
            var root = payload.RootElement;
            if (root.TryGetProperty("task", out var task) && task.GetString() is { } t)
            {
                names.Add(t);
            }

            if (root.TryGetProperty("previous", out var previous) && previous.GetString() is { } p)
            {
                names.Add(p);
            }

            if (root.TryGetProperty("depender", out var depender) && depender.GetString() is { } d)
            {
                names.Add(d);
            }

            if (root.TryGetProperty("crontab", out var crontab) && crontab.TryGetInt64(out var id))
            {
                crontabs.Add(id);
            }
        }

        if (crontabs.Count > 0)
        {
            names.UnionWith(await db.PeriodicTasks.Where(t => crontabs.Contains(t.CrontabId)).Select(t => t.Name).ToListAsync(ct));
        }

        LogChangesConsumed(logger, payloads.Count, names.Count);
        return (payloads.Count, names);
    }

    /// <summary>The timing of every enabled task, or of the named ones.</summary>
    /// <remarks>Only the columns the timing needs are read, and tasks on one crontab share its parsed schedule:
    /// at start this holds every enabled task at once.</remarks>
    private async Task<IReadOnlyList<TaskTiming>> TimingsAsync(IReadOnlyCollection<string>? names, CancellationToken ct)
    {
        await using var db = await factory.CreateDbContextAsync(ct);

        // One snapshot for both reads: a task cannot move to a crontab that the second read does not see.
        await using var snapshot = await db.Database.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
        // One query shape for both uses, so the first change after a start finds it compiled.
        var tasks = await db.PeriodicTasks.AsNoTracking()
            .Where(t => t.Enabled && (names == null || names.Contains(t.Name)))
            .Select(t => new PeriodicTask
            {
                Name = t.Name,
                Task = t.Task,
                CrontabId = t.CrontabId,
                CronBase = t.CronBase,
                SkipMisfire = t.SkipMisfire,
                CoalesceMisfire = t.CoalesceMisfire,
                GracePeriod = t.GracePeriod,
                MaxCatchup = t.MaxCatchup,
                MaxRunning = t.MaxRunning,
                State = t.State,
            })
            .ToListAsync(ct);
        var crontabIds = tasks.Select(t => t.CrontabId).Distinct().ToList();
        var schedules = await db.Crontabs.AsNoTracking()
            .Where(c => crontabIds.Contains(c.Id))
            .ToDictionaryAsync(c => c.Id, c => c.ToSchedule(), ct);
        return tasks.Select(t =>
        {
            var definition = t.ToDefinition(schedules[t.CrontabId]);
            return new TaskTiming(t.Name, definition.Schedule, TaskEvaluator.PointerOf(definition, t.State.ToCore()), definition.Misfire, definition.GracePeriod);
        }).ToList();
    }

    [LoggerMessage(EventId = BeatEventIds.ChangesConsumed, Level = LogLevel.Information, Message = "Applied {Actions} schedule changes touching {Tasks} tasks")]
    private static partial void LogChangesConsumed(ILogger logger, int actions, int tasks);

    [LoggerMessage(EventId = BeatEventIds.ChangeEvaluationFailed, Level = LogLevel.Warning, Message = "Re-evaluating {Task} after its change failed; its trigger evaluates it again")]
    private static partial void LogEvaluationFailed(ILogger logger, Exception exception, string task);

    [LoggerMessage(EventId = BeatEventIds.ListenFailed, Level = LogLevel.Warning, Message = "Listening for schedule changes failed; retrying in {Retry}")]
    private static partial void LogListenFailed(ILogger logger, Exception exception, TimeSpan retry);
}
