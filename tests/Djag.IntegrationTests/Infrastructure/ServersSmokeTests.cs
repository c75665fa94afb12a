using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Net;
using Npgsql;

namespace Djag.IntegrationTests.Infrastructure;

public sealed class ServersSmokeTests(ServersFixture servers)
{
    [Fact]
    public async Task Fresh_database_answers_a_query()
    {
        var ct = TestContext.Current.CancellationToken;
        var connectionString = await servers.NewDatabaseAsync("smoke");

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand("select 1", connection);
        var result = await command.ExecuteScalarAsync(ct);

        Assert.Equal(1, result);
        Assert.StartsWith("smoke_", connection.Database, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_databases_are_distinct()
    {
        var first = new NpgsqlConnectionStringBuilder(await servers.NewDatabaseAsync("smoke"));
        var second = new NpgsqlConnectionStringBuilder(await servers.NewDatabaseAsync("smoke"));

        Assert.NotEqual(first.Database, second.Database);
    }

    [Fact]
    public async Task JetStream_round_trips_a_message()
    {
        var ct = TestContext.Current.CancellationToken;
        var prefix = servers.NewSubjectPrefix();
        await using var nats = new NatsClient(servers.Nats.Url);
        var js = nats.CreateJetStreamContext();

        await js.CreateStreamAsync(new StreamConfig(prefix, [$"{prefix}.>"]), ct);
        var ack = await js.PublishAsync($"{prefix}.hello", "world", cancellationToken: ct);
        ack.EnsureSuccess();
        Assert.Equal(prefix, ack.Stream);
        var consumer = await js.CreateOrUpdateConsumerAsync(prefix, new ConsumerConfig("smoke"), ct);
        var message = await consumer.NextAsync<string>(cancellationToken: ct);

        Assert.NotNull(message);
        Assert.Equal($"{prefix}.hello", message.Subject);
        Assert.Equal("world", message.Data);
        await message.AckAsync(cancellationToken: ct);
    }
}
