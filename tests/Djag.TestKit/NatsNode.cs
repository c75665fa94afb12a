using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Djag.TestKit;

/// <summary>
/// One nats-server process in a temp dir of its own (store, log, PID file, a config file if the owner writes one),
/// started with the same arguments each time so that a restart finds its port and JetStream state again; the dir is
/// deleted on dispose. <see cref="NatsServer"/> is one node, <see cref="NatsCluster"/> three.
/// </summary>
internal sealed class NatsNode : IAsyncDisposable
{
    private const string PidFileName = "nats-server.pid";
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(15);

    private readonly string _executable;
    private readonly ExitCleanup _exitCleanup;
    private readonly StringBuilder _console = new();
    private IReadOnlyList<string> _arguments = [];
    private Process? _process;
    private int _disposed;

    private NatsNode(string root, string executable, int port)
    {
        Root = root;
        _executable = executable;
        Port = port;
        _exitCleanup = new ExitCleanup(StopAndDelete);
    }

    /// <summary>The node's temp dir.</summary>
    public string Root { get; }

    /// <summary>The client port on 127.0.0.1.</summary>
    public int Port { get; }

    public string LogFile => Path.Combine(Root, "nats-server.log");

    public string StoreDirectory => Path.Combine(Root, "jetstream");

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>The running server's process id, or null when it is stopped.</summary>
    public int? Pid => IsRunning ? _process!.Id : null;

    private string PidFile => Path.Combine(Root, PidFileName);

    /// <summary>
    /// Creates the node's dir (stopping and deleting what a killed test host left of earlier ones) without starting it.
    /// <paramref name="arguments"/> gets the dir and says how to start the server there, besides its log and PID file.
    /// </summary>
    public static async Task<NatsNode> CreateAsync(int port, Func<NatsNode, IReadOnlyList<string>> arguments)
    {
        var executable = ServerBinaries.FindNatsServer();
        var root = await ScratchDirectory.CreateAsync("djag-nats-", PidFileName, Native.SigTerm);
        var node = new NatsNode(root, executable, port);
        node._arguments = [.. arguments(node), "-l", node.LogFile, "-P", node.PidFile];
        return node;
    }

    /// <summary>Starts the server and waits until its log says, since this start, that it is ready and its port takes connections.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // A restart appends to the same log; readiness is judged on what this start writes.
        var logOffset = File.Exists(LogFile) ? new FileInfo(LogFile).Length : 0;
        var startInfo = new ProcessStartInfo
        {
            FileName = _executable,
            WorkingDirectory = Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in _arguments)
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

    /// <summary>Stops the server gracefully (SIGTERM; SIGKILL if it lingers) and waits for it to exit.</summary>
    public Task StopAsync() => EndAsync(Native.SigTerm);

    /// <summary>SIGKILL, as a crashed machine: no shutdown code runs. Waits for the process to exit.</summary>
    public Task KillAsync() => EndAsync(Native.SigKill);

    /// <summary>What the server printed and the end of its log, for a failure message.</summary>
    public string Describe() => $"nats-server on port {Port}, output:\n{ConsoleText()}\nlog tail:\n{ProcessRunner.Tail(LogFile)}";

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
            ProcessRunner.DeleteDirectory(Root);
        }
    }

    private async Task EndAsync(int signal)
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

            Native.Signal(process.Id, signal);
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
            ProcessRunner.DeleteDirectory(Root);
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
