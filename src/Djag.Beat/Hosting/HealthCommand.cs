using Djag.Contracts;
using Djag.Persistence;
using Microsoft.EntityFrameworkCore;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.KeyValueStore;

namespace Djag.Beat.Hosting;

/// <summary>
/// <c>djag-beat health</c>: whether this beat's database and NATS are usable, how many beats are
/// checked in and how much work waits, one line each; exit code 0 when healthy, 1 when not.
/// </summary>
internal static class HealthCommand
{
    public static async Task<int> RunAsync(IServiceProvider services, TextWriter output, CancellationToken ct)
    {
        var healthy = true;
        async Task Check(string what, Func<Task<string>> probe)
        {
            try
            {
                await output.WriteLineAsync($"{what}: ok, {await probe()}");
            }
            catch (Exception ex)
            {
                healthy = false;
                await output.WriteLineAsync($"{what}: FAILED, {ex.Message}");
            }
        }

        var factory = services.GetRequiredService<IDbContextFactory<DjagDbContext>>();
        await Check("database", async () =>
        {
            await using var db = await factory.CreateDbContextAsync(ct);
            var pending = (await db.Database.GetPendingMigrationsAsync(ct)).Count();
            if (pending > 0)
            {
                throw new InvalidOperationException($"{pending} migrations pending; run 'djag-beat migrate'");
            }

            var open = await db.Runs.CountAsync(r => r.State == Persistence.Runs.RunStates.Dispatched || r.State == Persistence.Runs.RunStates.Running, ct);
            return $"{open} runs dispatched or running";
        });
        await Check("beats", async () =>
        {
            await using var db = await factory.CreateDbContextAsync(ct);
            var beats = await db.Database.SqlQueryRaw<string>("SELECT instance_name AS \"Value\" FROM qrtz_scheduler_state ORDER BY instance_name").ToListAsync(ct);
            return $"{beats.Count} checked in ({string.Join(", ", beats)})";
        });
        await Check("nats", async () =>
        {
            var nats = services.GetRequiredService<NatsConnection>();
            await nats.ConnectAsync();
            var stream = await services.GetRequiredService<INatsJSContext>().GetStreamAsync(DjagNames.RunsStream, cancellationToken: ct);
            var workers = await services.GetRequiredService<INatsKVContext>().GetStoreAsync(DjagNames.WorkersBucket, ct);
            var alive = 0;
            await foreach (var _ in workers.GetKeysAsync(cancellationToken: ct))
            {
                alive++;
            }

            return $"{stream.Info.State.Messages} runs queued or in progress, {alive} workers heartbeating";
        });
        return healthy ? 0 : 1;
    }
}
