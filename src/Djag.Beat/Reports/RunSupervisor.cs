using System.Text.Json;
using Djag.Beat.Dispatch;
using Djag.Beat.Hosting;
using Djag.Contracts;
using Djag.Persistence;
using Djag.Persistence.Runs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NATS.Client.KeyValueStore;
using NodaTime;

namespace Djag.Beat.Reports;

/// <summary>
/// Keeps open runs honest: a run whose worker stopped heartbeating past the lease is declared lost, a run
/// still dispatched a lease after its dispatch is published again (its beat may have died between the commit
/// and the publish, or NATS was away), and every <c>ResilientSyncInterval</c> the open runs in PostgreSQL are
/// reconciled with the report bucket. Unlike the original, a restart neither forgets running runs nor
/// dispatches dispatched ones twice.
/// </summary>
internal sealed partial class RunSupervisor(
    IDbContextFactory<DjagDbContext> factory,
    INatsKVContext kv,
    ReportApplier applier,
    Dispatcher dispatcher,
    IOptions<BeatOptions> options,
    TimeProvider time,
    ILogger<RunSupervisor> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        var lease = Duration.FromSeconds(o.RunLease);
        var leaseCheck = TimeSpan.FromSeconds(Math.Max(1, o.RunLease / 3.0));

        // Retries are due at whole seconds of backoff; a one-second tick keeps them on time.
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), time);
        var lastSync = time.GetUtcNow();
        var lastLeaseCheck = lastSync;
        var lastRepublish = lastSync;

        // Runs dispatched before the start, and older than 5 s, are the report watcher's start-up reconciliation's.
        var republishedUpTo = Now() - lease;
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await dispatcher.DispatchScheduledAsync(stoppingToken);
                if (time.GetUtcNow() - lastLeaseCheck >= leaseCheck)
                {
                    await CheckLeasesAsync(lease, stoppingToken);
                    lastLeaseCheck = time.GetUtcNow();
                }

                if (time.GetUtcNow() - lastRepublish >= lease.ToTimeSpan())
                {
                    // A run committed and never published (its beat was killed in between, or the publish failed while
                    // NATS was away) is otherwise only found by the next reconciliation, up to ResilientSyncInterval later.
                    // Windows overlap by a lease, for a commit that landed later than the dispatch time it records;
                    // a run that did reach NATS is dropped as a duplicate, so each costs at most two extra publishes.
                    var upTo = Now() - lease;
                    await dispatcher.RepublishDispatchedAsync(republishedUpTo - lease, upTo, stoppingToken);
                    republishedUpTo = upTo;
                    lastRepublish = time.GetUtcNow();
                }

                if (time.GetUtcNow() - lastSync >= TimeSpan.FromSeconds(o.ResilientSyncInterval))
                {
                    await ReconcileAsync(stoppingToken);
                    lastSync = time.GetUtcNow();
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogSuperviseFailed(logger, ex);
            }
        }
    }

    /// <summary>Applies every report of an open run that the bucket holds, then publishes dispatched runs again that no worker has taken.</summary>
    public async Task ReconcileAsync(CancellationToken ct)
    {
        var store = await kv.GetStoreAsync(DjagNames.RunReportsBucket, ct);
        var reports = new List<RunReport>();
        foreach (var runId in await OpenRunsAsync(ct))
        {
            try
            {
                var entry = await store.GetEntryAsync<byte[]>(DjagNames.RunKey(runId), cancellationToken: ct);
                if (entry.Value is { } value && JsonSerializer.Deserialize(value, DjagJsonContext.Default.RunReport) is { } report)
                {
                    reports.Add(report);
                }
            }
            catch (NatsKVKeyNotFoundException)
            {
            }
            catch (NatsKVKeyDeletedException)
            {
            }
            catch (JsonException)
            {
            }
        }

        await applier.ApplyAsync(reports, ct);
        await dispatcher.RepublishDispatchedAsync(Duration.FromSeconds(5), ct);
    }

    private async Task CheckLeasesAsync(Duration lease, CancellationToken ct)
    {
        await using var db = await factory.CreateDbContextAsync(ct);
        var cutoff = Instant.FromDateTimeOffset(time.GetUtcNow()) - lease;
        var running = await db.Runs.AsNoTracking()
            .Where(r => r.State == RunStates.Running && r.StartedAt <= cutoff)
            .Select(r => new { r.Id, r.Worker })
            .ToListAsync(ct);
        if (running.Count == 0)
        {
            return;
        }

        var workers = await kv.GetStoreAsync(DjagNames.WorkersBucket, ct);
        var alive = new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (var run in running)
        {
            var worker = run.Worker ?? "";
            if (!alive.TryGetValue(worker, out var isAlive))
            {
                isAlive = alive[worker] = await IsAliveAsync(workers, worker, ct);
            }

            if (!isAlive)
            {
                await applier.LoseAsync(run.Id, $"worker {worker} stopped heartbeating for more than {lease.TotalSeconds:0} s", ct);
            }
        }
    }

    private static async Task<bool> IsAliveAsync(INatsKVStore workers, string worker, CancellationToken ct)
    {
        try
        {
            var entry = await workers.GetEntryAsync<byte[]>(worker, cancellationToken: ct);
            return entry.Operation == NatsKVOperation.Put;
        }
        catch (NatsKVKeyNotFoundException)
        {
            return false;
        }
        catch (NatsKVKeyDeletedException)
        {
            return false;
        }
    }

    private Instant Now() => Instant.FromDateTimeOffset(time.GetUtcNow());

    private async Task<List<long>> OpenRunsAsync(CancellationToken ct)
    {
        await using var db = await factory.CreateDbContextAsync(ct);
        return await db.Runs.Where(r => r.State == RunStates.Dispatched || r.State == RunStates.Running)
            .OrderBy(r => r.Id).Select(r => r.Id).ToListAsync(ct);
    }

    [LoggerMessage(EventId = BeatEventIds.EvaluationFailed, Level = LogLevel.Warning, Message = "Supervising runs failed; trying again at the next tick")]
    private static partial void LogSuperviseFailed(ILogger logger, Exception exception);
}
