using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Djag.IntegrationTests.Infrastructure;
using Djag.TestKit;

[assembly: AssemblyFixture(typeof(ServersFixture))]

namespace Djag.IntegrationTests.Infrastructure;

/// <summary>
/// One PostgreSQL cluster and one nats-server for the whole test assembly. Tests take it by
/// constructor injection and isolate themselves: a database of their own, a subject prefix of their own.
/// </summary>
public sealed class ServersFixture : IAsyncLifetime
{
    private PostgresServer? _postgres;
    private NatsServer? _nats;

    public PostgresServer Postgres => _postgres ?? throw new InvalidOperationException("The fixture is not initialized.");

    public NatsServer Nats => _nats ?? throw new InvalidOperationException("The fixture is not initialized.");

    /// <summary>A fresh database; returns its connection string.</summary>
    public Task<string> NewDatabaseAsync(string prefix) =>
        Postgres.CreateDatabaseAsync(prefix, TestContext.Current.CancellationToken);

    /// <summary>
    /// A unique token such as "t3f9c1a27b04e" — valid both as a subject token and as a stream or
    /// consumer name, so a test can use "{prefix}.>" as its subjects and the prefix as its stream name.
    /// </summary>
    [SuppressMessage("Performance", "CA1822:Mark members as static", Justification = "Tests reach every helper through the injected fixture.")]
    public string NewSubjectPrefix() =>
        "t" + Guid.NewGuid().ToString("N", CultureInfo.InvariantCulture)[..12];

    public async ValueTask InitializeAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        var postgres = PostgresServer.StartAsync(ct);
        var nats = NatsServer.StartAsync(ct);
        try
        {
            await Task.WhenAll(postgres, nats);
        }
        catch
        {
            // One failed: stop the other here rather than rely on xunit disposing a fixture whose start threw.
            if (postgres.IsCompletedSuccessfully)
            {
                await (await postgres).DisposeAsync();
            }

            if (nats.IsCompletedSuccessfully)
            {
                await (await nats).DisposeAsync();
            }

            throw;
        }

        _postgres = await postgres;
        _nats = await nats;
    }

    public async ValueTask DisposeAsync()
    {
        if (_nats is not null)
        {
            await _nats.DisposeAsync();
        }

        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }
    }
}
