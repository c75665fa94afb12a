using System.Diagnostics;
using System.Globalization;
using System.Text;
using Npgsql;

namespace Djag.TestKit;

/// <summary>
/// A throwaway PostgreSQL cluster in a temp dir, on a free loopback port, tuned for tests
/// (no fsync). As root its binaries run as the 'postgres' user through runuser.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);

    private readonly string _root;
    private readonly string _binDirectory;
    private readonly bool _asPostgresUser;
    private readonly ExitCleanup _exitCleanup;
    private int _disposed;

    private PostgresServer(string root, string binDirectory, int port)
    {
        _root = root;
        _binDirectory = binDirectory;
        _asPostgresUser = ProcessRunner.RunPostgresAsOtherUser;
        Port = port;
        AdminConnectionString = ConnectionStringFor("postgres");
        _exitCleanup = new ExitCleanup(StopAndDelete);
    }

    /// <summary>Connection string of the 'postgres' database as superuser 'postgres'.</summary>
    public string AdminConnectionString { get; }

    public int Port { get; }

    public string LogFile => Path.Combine(_root, "postgres.log");

    private string DataDirectory => Path.Combine(_root, "data");

    private string PidFile => Path.Combine(DataDirectory, "postmaster.pid");

    public static async Task<PostgresServer> StartAsync(CancellationToken cancellationToken = default)
    {
        var binDirectory = ServerBinaries.FindPostgresBinDirectory();
        var root = await ScratchDirectory.CreateAsync("djag-pg-", Path.Combine("data", "postmaster.pid"), Native.SigInt);
        var server = new PostgresServer(root, binDirectory, ProcessRunner.FreeLoopbackPort());
        try
        {
            await server.InitializeClusterAsync(cancellationToken);
            await server.StartServerAsync(cancellationToken);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Creates a fresh, uniquely named database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix, CancellationToken cancellationToken = default)
    {
        var name = UniqueDatabaseName(prefix);
        await using var connection = new NpgsqlConnection(ConnectionStringFor("postgres", pooling: false));
        await connection.OpenAsync(cancellationToken);
        // FILE_COPY (PostgreSQL 15+) copies template1's files instead of WAL-logging every page: faster without fsync.
        var strategy = connection.PostgreSqlVersion.Major >= 15 ? " STRATEGY = FILE_COPY" : string.Empty;
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"{strategy}", connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
        return ConnectionStringFor(name);
    }

    /// <summary>Fast shutdown (open sessions are cut); the data dir stays for <see cref="RestartAsync"/>.</summary>
    public async Task StopAsync()
    {
        // SIGINT is PostgreSQL's fast shutdown; SIGTERM ("smart") would wait for pooled connections.
        if (ScratchDirectory.ReadPid(PidFile) is { } pid && Native.IsAlive(pid))
        {
            await ScratchDirectory.TerminateAsync(pid, Native.SigInt);
        }
    }

    /// <summary>
    /// Stops the server if it runs and starts it again on the same port with the same data.
    /// Pooled connections opened before are dead afterwards: clear the pool (NpgsqlConnection.ClearAllPools) or expect the first use to fail.
    /// </summary>
    public async Task RestartAsync(CancellationToken ct = default)
    {
        await StopAsync();
        await StartServerAsync(ct);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _exitCleanup.Dispose();
        try
        {
            await StopAsync();
        }
        finally
        {
            ProcessRunner.DeleteDirectory(_root);
        }
    }

    private void StopAndDelete()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        // ProcessExit handlers are synchronous: this is the one place that blocks on a task.
        try
        {
            StopAsync().GetAwaiter().GetResult();
        }
        finally
        {
            ProcessRunner.DeleteDirectory(_root);
        }
    }

    private async Task InitializeClusterAsync(CancellationToken cancellationToken)
    {
        if (_asPostgresUser)
        {
            await RunCheckedAsync("chown", ["postgres:postgres", _root], asPostgresUser: false, cancellationToken);
        }

        await RunCheckedAsync(
            Path.Combine(_binDirectory, "initdb"),
            ["-D", DataDirectory, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C", "--no-instructions"],
            _asPostgresUser,
            cancellationToken);

        var settings = new StringBuilder()
            .AppendLine()
            .AppendLine("# djag test kit")
            .AppendLine("listen_addresses = '127.0.0.1'")
            .AppendLine(CultureInfo.InvariantCulture, $"port = {Port}")
            .AppendLine(CultureInfo.InvariantCulture, $"unix_socket_directories = '{_root}'")
            .AppendLine("fsync = off")
            .AppendLine("synchronous_commit = off")
            .AppendLine("full_page_writes = off")
            .AppendLine("max_connections = 1000");
        await File.AppendAllTextAsync(Path.Combine(DataDirectory, "postgresql.conf"), settings.ToString(), cancellationToken);
    }

    private async Task StartServerAsync(CancellationToken cancellationToken)
    {
        // pg_ctl detaches the postmaster and writes its PID to postmaster.pid, which is how we stop it.
        var pgCtl = await ProcessRunner.RunAsync(
            Path.Combine(_binDirectory, "pg_ctl"),
            ["start", "-D", DataDirectory, "-l", LogFile, "-w", "-t", "30", "-s"],
            _root,
            _asPostgresUser,
            ReadyTimeout + TimeSpan.FromSeconds(5),
            cancellationToken);
        if (pgCtl.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"PostgreSQL did not start on port {Port} (pg_ctl exit {pgCtl.ExitCode}): {pgCtl.Output}\nServer log tail:\n{ProcessRunner.Tail(LogFile)}");
        }

        await WaitUntilAcceptingConnectionsAsync(cancellationToken);
    }

    private async Task WaitUntilAcceptingConnectionsAsync(CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        var probe = new NpgsqlConnectionStringBuilder(ConnectionStringFor("postgres", pooling: false)) { Timeout = 2 }.ConnectionString;
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(probe);
                await connection.OpenAsync(cancellationToken);
                return;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException && stopwatch.Elapsed < ReadyTimeout)
            {
                await Task.Delay(100, cancellationToken);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                throw new InvalidOperationException(
                    $"PostgreSQL on port {Port} did not accept connections within {ReadyTimeout.TotalSeconds:0} s: {e.Message}\nServer log tail:\n{ProcessRunner.Tail(LogFile)}",
                    e);
            }
        }
    }

    private async Task RunCheckedAsync(string fileName, IReadOnlyList<string> arguments, bool asPostgresUser, CancellationToken cancellationToken)
    {
        var result = await ProcessRunner.RunAsync(fileName, arguments, _root, asPostgresUser, TimeSpan.FromSeconds(60), cancellationToken);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{Path.GetFileName(fileName)} failed with exit code {result.ExitCode}:\n{result.Output}");
        }
    }

    private string ConnectionStringFor(string database, bool pooling = true) =>
        new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = Port,
            Username = "postgres",
            Database = database,
            Pooling = pooling,

            // Hundreds of test databases each keep a pool; idle connections are closed within seconds so
            // they do not add up to max_connections.
            ConnectionIdleLifetime = 5,
            ConnectionPruningInterval = 1,
            IncludeErrorDetail = true,
        }.ConnectionString;

    private static string UniqueDatabaseName(string prefix)
    {
        var cleaned = new string([.. prefix.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_')]);
        if (cleaned.Length == 0 || !char.IsAsciiLetter(cleaned[0]))
        {
            cleaned = "db_" + cleaned;
        }

        // Identifiers stop at 63 bytes: up to 40 of prefix, '_', 16 of uniqueness.
        var unique = Guid.NewGuid().ToString("N", CultureInfo.InvariantCulture)[..16];
        return $"{cleaned[..Math.Min(cleaned.Length, 40)]}_{unique}";
    }
}
