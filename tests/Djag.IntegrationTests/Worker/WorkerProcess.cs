using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Djag.IntegrationTests.Worker;

/// <summary>The built <c>djag-worker</c> as a process of its own, as systemd would run it.</summary>
internal sealed class WorkerProcess : IAsyncDisposable
{
    private const int OutputLinesShown = 200;

    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private WorkerProcess(Process process, string id)
    {
        _process = process;
        Id = id;
    }

    public string Id { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts <c>dotnet djag-worker.dll --queues ...</c> with the settings in the environment, and waits until it heartbeats.</summary>
    public static async Task<WorkerProcess> StartAsync(FakeBeat beat, string queues = "default", int concurrency = 4, IReadOnlyDictionary<string, string>? environment = null)
    {
        var workerId = $"proc-{Guid.NewGuid():N}"[..17];
        var settings = new Dictionary<string, string>(environment ?? new Dictionary<string, string>())
        {
            ["DJAG_NATS_URL"] = beat.Url,
            ["DJAG_CONCURRENCY"] = concurrency.ToString(CultureInfo.InvariantCulture),
            ["DJAG_WORKER_ID"] = workerId,
        };
        var worker = Start(["--queues", queues], settings, workerId);
        try
        {
            await FakeBeat.WaitUntilAsync(
                async () => worker._process.HasExited
                    ? throw new InvalidOperationException($"djag-worker exited with {worker._process.ExitCode}:\n{worker.Output}")
                    : await beat.HeartbeatAsync(workerId) is not null,
                TimeSpan.FromSeconds(30),
                $"worker {workerId} to heartbeat");
        }
        catch
        {
            await worker.DisposeAsync();
            throw;
        }

        return worker;
    }

    /// <summary>Runs djag-worker with these settings until it exits by itself (a start that fails).</summary>
    public static async Task<(int ExitCode, string Output)> RunToExitAsync(IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment)
    {
        await using var worker = Start(arguments, environment, "failing");
        var exitCode = await worker.WaitForExitAsync(TimeSpan.FromSeconds(30));
        return (exitCode, worker.Output);
    }

    /// <summary>SIGTERM, as systemd stops a unit.</summary>
    public async Task TerminateAsync()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>SIGKILL: the worker dies without a word.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: false);
        await _process.WaitForExitAsync(TestContext.Current.CancellationToken);
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync(CancellationToken.None);
        }

        var lines = Output.Split('\n');
        TestContext.Current.TestOutputHelper?.WriteLine($"--- worker {Id}, last {OutputLinesShown} of {lines.Length} lines ---\n{string.Join('\n', lines.TakeLast(OutputLinesShown))}");
        _process.Dispose();
    }

    private static WorkerProcess Start(IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment, string id)
    {
        var startInfo = new ProcessStartInfo(DotnetHost())
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        // On the test's runtime configuration: this project references ASP.NET Core, so the build leaves out the
        // worker's own copies of what that shared framework carries (see DjagProcess.StartOnTestRuntime).
        foreach (var argument in (string[])["exec", "--runtimeconfig", Path.Combine(AppContext.BaseDirectory, "Djag.IntegrationTests.runtimeconfig.json"),
                     "--depsfile", Path.Combine(AppContext.BaseDirectory, "Djag.IntegrationTests.deps.json"),
                     Path.Combine(AppContext.BaseDirectory, "djag-worker.dll")])
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment)
        {
            startInfo.Environment[name] = value;
        }

        var process = Process.Start(startInfo) ?? throw new InvalidOperationException("could not start djag-worker");
        var worker = new WorkerProcess(process, id);
        process.OutputDataReceived += (_, e) => worker.Append(e.Data);
        process.ErrorDataReceived += (_, e) => worker.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return worker;
    }

    /// <summary>The dotnet that runs the tests (dotnet test sets DOTNET_HOST_PATH), else the one on PATH.</summary>
    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}
