using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Djag.TestKit;

/// <summary>
/// A nats-server with JetStream on a free loopback port, its store in a temp dir that survives
/// <see cref="RestartAsync"/> and is deleted on dispose.
/// </summary>
public sealed class NatsServer : IAsyncDisposable
{
    private const string PidFileName = "nats-server.pid";
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(15);

    private readonly string _root;
    private readonly string _executable;
    private readonly ExitCleanup _exitCleanup;
    private readonly StringBuilder _console = new();
    private Process? _process;
    private int _disposed;

    private NatsServer(string root, string executable, int port)
    {
        _root = root;
        _executable = executable;
        Port = port;
        Url = $"nats://127.0.0.1:{port}";
        _exitCleanup = new ExitCleanup(StopAndDelete);
    }

    /// <summary>nats://127.0.0.1:PORT</summary>
    public string Url { get; }

    public int Port { get; }

    public string LogFile => Path.Combine(_root, "nats-server.log");

    private string StoreDirectory => Path.Combine(_root, "jetstream");

    private string PidFile => Path.Combine(_root, PidFileName);

    public static async Task<NatsServer> StartAsync(CancellationToken cancellationToken = default)
    {
        var executable = ServerBinaries.FindNatsServer();
        var root = await ScratchDirectory.CreateAsync("djag-nats-", PidFileName, Native.SigTerm);
        var server = new NatsServer(root, executable, ProcessRunner.FreeLoopbackPort());
        try
        {
            await server.StartServerAsync(cancellationToken);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Stops the server gracefully (SIGTERM; SIGKILL if it lingers) and waits for it to exit.</summary>
    public async Task StopAsync()
    {
        if (_process is not { } process)
        {
            return;
        }

        _process = null;
        using (process)
        {
            if (process.HasExited)
            {
                return;
            }

            Native.Signal(process.Id, Native.SigTerm);
            using var graceful = new CancellationTokenSource(StopTimeout);
            try
            {
                await process.WaitForExitAsync(graceful.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }
    }

    /// <summary>Stops the server if it runs and starts it again on the same port and store dir, so JetStream state survives.</summary>
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

    private async Task StartServerAsync(CancellationToken cancellationToken)
    {
        // A restart appends to the same log; readiness is judged on what this start writes.
        var logOffset = File.Exists(LogFile) ? new FileInfo(LogFile).Length : 0;
        var startInfo = new ProcessStartInfo
        {
            FileName = _executable,
            WorkingDirectory = _root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])["-a", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture),
                     "-js", "-sd", StoreDirectory, "-l", LogFile, "-P", PidFile])
        {
            startInfo.ArgumentList.Add(argument);
        }

        var process = Process.Start(startInfo)
            ?? throw new InvalidOperationException($"Could not start {_executable}.");
        _process = process;
        process.OutputDataReceived += (_, e) => AppendConsole(e.Data);
        process.ErrorDataReceived += (_, e) => AppendConsole(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var stopwatch = Stopwatch.StartNew();
        while (!await IsReadyAsync(logOffset, cancellationToken))
        {
            if (process.HasExited || stopwatch.Elapsed > ReadyTimeout)
            {
                var why = process.HasExited ? $"exited with code {process.ExitCode}" : $"was not ready within {ReadyTimeout.TotalSeconds:0} s";
                await StopAsync();
                throw new InvalidOperationException(
                    $"nats-server on port {Port} {why}: {ProcessRunner.Describe(startInfo)}\nOutput:\n{ConsoleText()}\nLog tail:\n{ProcessRunner.Tail(LogFile)}");
            }

            await Task.Delay(25, cancellationToken);
        }
    }

    private async Task<bool> IsReadyAsync(long logOffset, CancellationToken cancellationToken)
    {
        if (!LogSince(logOffset).Contains("Server is ready", StringComparison.Ordinal))
        {
            return false;
        }

        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port, cancellationToken);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private string LogSince(long offset)
    {
        try
        {
            using var stream = new FileStream(LogFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            stream.Seek(offset, SeekOrigin.Begin);
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
        catch (FileNotFoundException)
        {
            return string.Empty;
        }
    }

    private void AppendConsole(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_console)
        {
            _console.AppendLine(line);
        }
    }

    private string ConsoleText()
    {
        lock (_console)
        {
            return _console.ToString();
        }
    }
}
