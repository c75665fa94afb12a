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
        var retry = TimeSpan.FromMilliseconds(200);
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

                retry = TimeSpan.FromMilliseconds(200);
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
                retry = TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
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

        var timings = (await TimingsAsync(changed, ct)).ToDictionary(t => t.Name, StringComparer.Ordinal);
        foreach (var name in changed)
        {
            if (timings.TryGetValue(name, out var timing))
            {
                await timer.ScheduleAsync(timing, ct);
            }
            else
            {
                await timer.UnscheduleAsync(name, ct);
            }
        }

        await evaluations.EvaluateAsync(timings.Keys);
        return consumed;
    }

    /// <summary>Moves the internal user actions to the audit table; returns the names of the tasks they touch.</summary>
    private async Task<(int Consumed, IReadOnlyCollection<string> Tasks)> ConsumeActionsAsync(CancellationToken ct)
    {
        await using var db = await factory.CreateDbContextAsync(ct);
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var actions = await db.UserActions
            .FromSql($"SELECT * FROM djag.user_actions WHERE action IN ({UserActionCodes.TaskChanged}, {UserActionCodes.ScheduleChanged}, {UserActionCodes.DependencyChanged}) ORDER BY id LIMIT {BatchSize} FOR UPDATE SKIP LOCKED")
            .ToListAsync(ct);
        if (actions.Count == 0)
        {
            return (0, []);
        }

        var now = Instant.FromDateTimeOffset(time.GetUtcNow());
        db.UserActionAudits.AddRange(actions.Select(a => new UserActionAudit { Action = a.Action, Payload = a.Payload, CreateDt = a.CreateDt, DeleteDt = now }));
        db.UserActions.RemoveRange(actions);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);

        var names = new HashSet<string>(StringComparer.Ordinal);
        var crontabs = new List<long>();
        foreach (var action in actions)
        {
            using var payload = JsonDocument.Parse(action.Payload);
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

        LogChangesConsumed(logger, actions.Count, names.Count);
        return (actions.Count, names);
    }

    /// <summary>The timing of every enabled task, or of the named ones.</summary>
    private async Task<IReadOnlyCollection<TaskTiming>> TimingsAsync(IReadOnlyCollection<string>? names, CancellationToken ct)
    {
        await using var db = await factory.CreateDbContextAsync(ct);
        var query = db.PeriodicTasks.AsNoTracking().Include(t => t.Crontab).Where(t => t.Enabled);
        if (names is not null)
        {
            query = query.Where(t => names.Contains(t.Name));
        }

        var tasks = await query.ToListAsync(ct);
        return tasks.Select(t =>
        {
            var definition = t.ToDefinition();
            return new TaskTiming(t.Name, definition.Schedule, TaskEvaluator.PointerOf(definition, t.State.ToCore()), definition.Misfire, definition.GracePeriod);
        }).ToList();
    }

    [LoggerMessage(EventId = BeatEventIds.ChangesConsumed, Level = LogLevel.Information, Message = "Applied {Actions} schedule changes touching {Tasks} tasks")]
    private static partial void LogChangesConsumed(ILogger logger, int actions, int tasks);

    [LoggerMessage(EventId = BeatEventIds.ListenFailed, Level = LogLevel.Warning, Message = "Listening for schedule changes failed; retrying in {Retry}")]
    private static partial void LogListenFailed(ILogger logger, Exception exception, TimeSpan retry);
}
