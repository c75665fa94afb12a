using System.Diagnostics;
using Djag.Bench.Reporting;
using Djag.TestKit;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.KeyValueStore;
using Npgsql;

namespace Djag.Bench.Scenarios;

/// <summary>
/// The raw cost of the parts a dependency hop is made of, on the same machine in the same run: a NATS request-reply
/// (a publish that waits for an answer, as a JetStream publish does), a KV put (a worker's report) and one PostgreSQL
/// insert-and-commit (the beat recording it). Their medians added up are the floor a hop is compared with.
/// </summary>
internal static class FloorScenario
{
    public const string Sum = "floor.sum.p50";

    public static async Task RunAsync(BenchContext bench, CancellationToken ct)
    {
        var n = bench.Options.FloorIterations;
        var payload = new byte[300];
        await using var nats = await NatsServer.StartAsync(ct);
        await using var connection = new NatsConnection(new NatsOpts { Url = nats.Url });
        await connection.ConnectAsync();

        await using var subscription = await connection.SubscribeCoreAsync<byte[]>("bench.echo", cancellationToken: ct);
        var responder = Task.Run(async () =>
        {
            await foreach (var message in subscription.Msgs.ReadAllAsync(ct))
            {
                await message.ReplyAsync(message.Data, cancellationToken: ct);
            }
        }, ct);
        var requestReply = await TimeAsync(n, _ => connection.RequestAsync<byte[], byte[]>("bench.echo", payload, cancellationToken: ct).AsTask());
        await subscription.UnsubscribeAsync();
        await responder;

        // File storage and history 1, as the run-reports bucket is configured.
        var kv = new NatsKVContext(new NatsJSContext(connection));
        var store = await kv.CreateStoreAsync(new NatsKVConfig("bench_floor") { History = 1, Storage = NatsKVStorageType.File }, ct);
        var kvPut = await TimeAsync(n, i => store.PutAsync($"run{i % 1000}", payload, cancellationToken: ct).AsTask());

        var database = await bench.Servers.CreateDatabaseAsync("floor", ct);
        await using var pg = new NpgsqlConnection(database);
        await pg.OpenAsync(ct);
        await using (var create = new NpgsqlCommand("CREATE TABLE floor (id bigserial PRIMARY KEY, at timestamptz NOT NULL, body bytea NOT NULL)", pg))
        {
            await create.ExecuteNonQueryAsync(ct);
        }

        // Autocommit: each insert is its own transaction, committed before the call returns.
        await using var insert = new NpgsqlCommand("INSERT INTO floor (at, body) VALUES (now(), @b)", pg);
        insert.Parameters.AddWithValue("b", payload);
        await insert.PrepareAsync(ct);
        var pgInsert = await TimeAsync(n, _ => insert.ExecuteNonQueryAsync(ct));

        var report = bench.Report;
        report.Add("floor.nats_request_reply", requestReply, "ms");
        report.Add("floor.kv_put", kvPut, "ms");
        report.Add("floor.pg_insert_commit", pgInsert, "ms", note: $"n={pgInsert.Count}; synchronous_commit=off (TestKit server)");
        report.Add(Sum, requestReply.P50 + kvPut.P50 + pgInsert.P50, "ms", note: "request-reply + KV put + insert-commit medians");
    }

    /// <summary>Times <paramref name="n"/> sequential calls after n/10 warm-up calls, in milliseconds.</summary>
    private static async Task<Distribution> TimeAsync(int n, Func<int, Task> call)
    {
        for (var i = 0; i < n / 10; i++)
        {
            await call(i);
        }

        var samples = new double[n];
        for (var i = 0; i < n; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await call(i);
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        return Distribution.Of(samples);
    }
}
