using System.Diagnostics;
using System.Text;

namespace Djag.TestKit;

/// <summary>
/// A Djag service (djag-beat, djag-worker) started as its own process from the test's output folder (the test
/// project references the service's project, which copies it there), stopped by PID.
/// </summary>
public sealed class DjagProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private ExitCleanup? _exitCleanup;

    private DjagProcess(Process process) => _process = process;

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

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

    /// <summary>Starts <c>dotnet {assembly}.dll</c> (djag-beat or djag-worker) with the given environment.</summary>
    public static DjagProcess Start(string assembly, IReadOnlyDictionary<string, string> environment, params string[] args) =>
        Start(assembly, null, environment, args);

    /// <summary>
    /// Like <see cref="Start(string, IReadOnlyDictionary{string, string}, string[])"/>, for a test project that
    /// references ASP.NET Core: its build leaves out the service's own copies of assemblies that the ASP.NET Core
    /// shared framework carries too (Microsoft.Extensions.Hosting, ...), so the service runs on the test's
    /// runtime configuration and dependency manifest, which name that framework.
    /// </summary>
    public static DjagProcess StartOnTestRuntime(string assembly, IReadOnlyDictionary<string, string> environment, params string[] args) =>
        Start(assembly, System.Reflection.Assembly.GetEntryAssembly()?.GetName().Name
            ?? throw new InvalidOperationException("the test host has no entry assembly"), environment, args);

    private static DjagProcess Start(string assembly, string? testAssembly, IReadOnlyDictionary<string, string> environment, string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        if (testAssembly is not null)
        {
            foreach (var arg in (string[])["exec", "--runtimeconfig", Path.Combine(AppContext.BaseDirectory, testAssembly + ".runtimeconfig.json"),
                         "--depsfile", Path.Combine(AppContext.BaseDirectory, testAssembly + ".deps.json")])
            {
                info.ArgumentList.Add(arg);
            }
        }

        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, assembly + ".dll"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        var process = new Process { StartInfo = info };
        var djag = new DjagProcess(process);
        process.OutputDataReceived += (_, e) => djag.Append(e.Data);
        process.ErrorDataReceived += (_, e) => djag.Append(e.Data);
        process.Start();

        // A test host stopped by SIGTERM or Ctrl-C (or crashing) takes its services with it instead of leaving them running.
        djag._exitCleanup = new ExitCleanup(djag.KillOnExit);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return djag;
    }

    /// <summary>Waits for a command (such as <c>djag-beat migrate</c>) to end by itself; returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        await _process.WaitForExitAsync(deadline.Token);
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: no shutdown code runs.</summary>
    public void Kill() => _process.Kill();

    /// <summary>SIGSTOP: the process freezes, sockets open, as a stalled VM or a long GC pause would.</summary>
    public void Freeze() => Native.Signal(Pid, Native.SigStop);

    /// <summary>SIGCONT after <see cref="Freeze"/>.</summary>
    public void Thaw() => Native.Signal(Pid, Native.SigCont);

    public async Task StopAsync()
    {
        if (_process.HasExited)
        {
            return;
        }

        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        _exitCleanup?.Dispose();
        await StopAsync();
        _process.Dispose();
    }

    private void KillOnExit()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
    }

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
