using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;

namespace Djag.Bench.Infrastructure;

/// <summary>
/// A beat, worker or <c>djag-beat migrate</c> started as <c>dotnet ASSEMBLY.dll</c> from <see cref="Published"/>, where
/// <c>bench/run.sh</c> publishes them as they are deployed (ReadyToRun),
/// its output kept for diagnostics, stopped by its PID. Whatever is still running when the bench exits
/// (also on an exception or Ctrl-C) is killed from the exit handler.
/// </summary>
internal sealed class ServiceProcess : IAsyncDisposable
{
    private const int KeptOutput = 64 * 1024;

    private static readonly ConcurrentDictionary<int, Process> Running = new();

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly List<(string Text, TaskCompletionSource Seen)> _waits = [];

    static ServiceProcess() => AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();

    private ServiceProcess(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    public string Name { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public ProcSample? Sample() => ProcStats.Read(Pid);

    /// <summary>The folder with one published program per subfolder, named after its assembly.</summary>
    public static string Published { get; } = Path.Combine(AppContext.BaseDirectory, "published");

    public static ServiceProcess Start(string name, string assembly, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var folder = Path.Combine(Published, assembly);
        var dll = Path.Combine(folder, assembly + ".dll");
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"{dll} is missing: bench/run.sh publishes the beat and the worker there before it starts the bench", dll);
        }

        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = folder,
        };
        info.ArgumentList.Add(dll);
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
        var service = new ServiceProcess(name, process);
        process.OutputDataReceived += (_, e) => service.Append(e.Data);
        process.ErrorDataReceived += (_, e) => service.Append(e.Data);
        process.Start();
        Running[process.Id] = process;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return service;
    }

    /// <summary>The last lines it printed.</summary>
    public string OutputTail()
    {
        lock (_output)
        {
            return _output.ToString();
        }
    }

    /// <summary>Waits until a line containing <paramref name="text"/> is printed; fails when the process exits or the time is up.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout, CancellationToken ct)
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_output)
        {
            if (_output.ToString().Contains(text, StringComparison.Ordinal))
            {
                return;
            }

            _waits.Add((text, seen));
        }

        var exited = _process.WaitForExitAsync(ct);
        var done = await Task.WhenAny(seen.Task, exited, Task.Delay(timeout, ct));
        ct.ThrowIfCancellationRequested();
        if (done != seen.Task)
        {
            var why = done == exited ? $"exited with code {_process.ExitCode}" : $"did not print '{text}' within {timeout.TotalSeconds:0} s";
            throw new InvalidOperationException($"{Name} (pid {Pid}) {why}. Output:\n{OutputTail()}");
        }
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout, CancellationToken ct)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        try
        {
            await _process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException($"{Name} (pid {Pid}) did not exit within {timeout.TotalSeconds:0} s. Output:\n{OutputTail()}");
        }

        Running.TryRemove(Pid, out _);
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: no shutdown code runs (a crash).</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
    }

    /// <summary>SIGSTOP: the process keeps its connections but runs no instruction until <see cref="Thaw"/>.</summary>
    public void Freeze() => Native.Signal(Pid, Native.SigStop);

    public void Thaw() => Native.Signal(Pid, Native.SigCont);

    /// <summary>SIGTERM, as systemd stops a service; SIGKILL when it has not exited after <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (_process.HasExited)
        {
            Running.TryRemove(Pid, out _);
            return;
        }

        Native.Signal(Pid, Native.SigTerm);
        using var limit = new CancellationTokenSource(grace);
        try
        {
            await _process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
            await _process.WaitForExitAsync(CancellationToken.None);
        }

        Running.TryRemove(Pid, out _);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(10));
        _process.Dispose();
    }

    private static void KillAll()
    {
        foreach (var process in Running.Values)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }
            }
            catch (InvalidOperationException)
            {
                // Exited meanwhile.
            }
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
            if (_output.Length > KeptOutput)
            {
                _output.Remove(0, _output.Length - (KeptOutput / 2));
            }

            for (var i = _waits.Count - 1; i >= 0; i--)
            {
                if (line.Contains(_waits[i].Text, StringComparison.Ordinal))
                {
                    _waits[i].Seen.TrySetResult();
                    _waits.RemoveAt(i);
                }
            }
        }
    }
}
