using Djag.IntegrationTests.Cli;
using Djag.IntegrationTests.Infrastructure;
using Djag.TestKit;
using Microsoft.Extensions.Time.Testing;

namespace Djag.IntegrationTests.Security;

/// <summary>
/// The beat, the worker and the CLI started with connection settings that hold distinctive passwords, on the paths
/// that fail (no such database, nothing listening, NATS unreachable) and so log the most: the passwords appear in
/// none of their output. The admin's own check is in Djag.Admin.Tests (SecurityTests).
/// </summary>
public sealed class SecretLoggingTests(ServersFixture servers)
{
    private const string PgPassword = "Pg-Secret-7f3a9c1e";
    private const string NatsPassword = "Nats-Secret-2b8d4e6f";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string MissingDatabase => $"Host=127.0.0.1;Port={servers.Postgres.Port};Database=no_such_db_{Guid.NewGuid():N};Username=postgres;Password={PgPassword};Timeout=5";

    private const string NobodyListening = $"Host=127.0.0.1;Port=1;Database=djag;Username=djag;Password={PgPassword};Timeout=5";

    [Fact]
    public async Task The_beat_names_what_failed_but_never_a_password()
    {
        var cases = new[]
        {
            (Db: MissingDatabase, Nats: servers.Nats.Url),
            (Db: NobodyListening, Nats: servers.Nats.Url),
            (Db: MissingDatabase, Nats: "nats://127.0.0.1:1"),
        };
        foreach (var (db, nats) in cases)
        {
            await using var beat = DjagProcess.StartOnTestRuntime("djag-beat", Environment(db, nats));
            var exit = await beat.WaitForExitAsync(TimeSpan.FromSeconds(90), Ct);

            Assert.NotEqual(0, exit);
            Assert.False(string.IsNullOrWhiteSpace(beat.Output));
            AssertNoSecret(beat.Output);
        }
    }

    [Fact]
    public async Task The_worker_names_the_unreachable_nats_but_never_its_password()
    {
        await using var worker = DjagProcess.StartOnTestRuntime("djag-worker", Environment(NobodyListening, "nats://127.0.0.1:1"));
        var exit = await worker.WaitForExitAsync(TimeSpan.FromSeconds(90), Ct);

        Assert.NotEqual(0, exit);
        Assert.Contains("127.0.0.1:1", worker.Output, StringComparison.Ordinal);
        AssertNoSecret(worker.Output);
    }

    [Fact]
    public async Task The_cli_reports_a_failed_connection_without_the_password()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        foreach (var db in new[] { MissingDatabase, NobodyListening })
        {
            var flag = await CliRunner.RunAsync(time, c => c, "tasks", "list", "--db", db);
            var environment = await CliRunner.RunAsync(time, c => c with { Environment = CliRunner.Environment(("DJAG_DB", db)) }, "runs", "list");
            var apply = await CliRunner.RunAsync(time, c => c, "apply", "/nonexistent/schedule.yaml", "--db", db);

            foreach (var run in new[] { flag, environment, apply })
            {
                Assert.NotEqual(0, run.ExitCode);
                Assert.False(string.IsNullOrWhiteSpace(run.Error));
                AssertNoSecret(run.Out + run.Error);
            }
        }
    }

    private static Dictionary<string, string> Environment(string db, string nats) => new()
    {
        ["DJAG_DB"] = db,
        ["DJAG_NATS_URL"] = nats,
        ["DJAG_NATS__USER"] = "beat",
        ["DJAG_NATS__PASSWORD"] = NatsPassword,
        ["DJAG_LOGGING__LOG_LEVEL__DEFAULT"] = "Debug",
    };

    private static void AssertNoSecret(string output)
    {
        Assert.DoesNotContain(PgPassword, output, StringComparison.Ordinal);
        Assert.DoesNotContain(NatsPassword, output, StringComparison.Ordinal);
        Assert.DoesNotContain("Secret-", output, StringComparison.OrdinalIgnoreCase);
    }
}
