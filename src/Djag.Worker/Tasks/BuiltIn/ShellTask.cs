using System.ComponentModel;
using System.Diagnostics;

namespace Djag.Worker.Tasks.BuiltIn;

/// <summary>
/// <c>djag.shell</c>: runs a program with an argument list — no shell in between, so nothing in the arguments
/// is interpolated. Non-zero exit is failure; on timeout or shutdown the whole process tree is killed.
/// </summary>
internal sealed class ShellTask : IDjagTask
{
    public const string Name = "djag.shell";

    /// <summary>How long to keep reading output after the program exits: a background child may hold the pipes open forever.</summary>
    private static readonly TimeSpan OutputDrainTimeout = TimeSpan.FromSeconds(2);

    public async Task RunAsync(TaskContext context)
    {
        var args = context.Bind<ShellArgs>();
        if (args.Cwd is { } cwd && !Directory.Exists(cwd))
        {
            throw new TaskArgumentException($"argument 'cwd': directory '{cwd}' does not exist");
        }

        var startInfo = new ProcessStartInfo(args.Program)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = args.Cwd ?? string.Empty,
        };
        foreach (var argument in args.Args ?? [])
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in args.Env ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                startInfo.Environment.Remove(name);
            }
            else
            {
                startInfo.Environment[name] = value;
            }
        }

        using var process = Start(startInfo, args.Program);
        process.StandardInput.Close();
        var output = Task.WhenAll(
            PumpAsync(process.StandardOutput, context.Output),
            PumpAsync(process.StandardError, context.Output));
        try
        {
            await process.WaitForExitAsync(context.CancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            throw;
        }
        finally
        {
            await Task.WhenAny(output, Task.Delay(OutputDrainTimeout, CancellationToken.None));
        }

        if (process.ExitCode != 0)
        {
            throw new TaskFailedException($"'{args.Program}' exited with code {process.ExitCode}");
        }
    }

    private static Process Start(ProcessStartInfo startInfo, string program)
    {
        try
        {
            return Process.Start(startInfo) ?? throw new TaskFailedException($"cannot start '{program}'");
        }
        catch (Win32Exception ex)
        {
            throw new TaskFailedException($"cannot start '{program}': {ex.Message}", ex);
        }
    }

    private static async Task PumpAsync(StreamReader reader, TextWriter output)
    {
        var buffer = new char[4096];
        int read;
        while ((read = await reader.ReadAsync(buffer)) > 0)
        {
            output.Write(buffer, 0, read);
        }
    }
}

/// <param name="Program">the executable, looked up on PATH when it has no slash</param>
/// <param name="Args">its arguments, passed as they are</param>
/// <param name="Cwd">working directory; default: the worker's</param>
/// <param name="Env">variables to set on top of the worker's environment; null removes one</param>
internal sealed record ShellArgs(
    string Program,
    IReadOnlyList<string>? Args = null,
    string? Cwd = null,
    IReadOnlyDictionary<string, string?>? Env = null);
