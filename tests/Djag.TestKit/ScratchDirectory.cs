using System.Globalization;

namespace Djag.TestKit;

/// <summary>
/// The temp dir a server lives in. It records the PID of the process that owns it, so a later
/// start can stop and delete what a killed test host (SIGKILL, no ProcessExit) left behind.
/// </summary>
internal static class ScratchDirectory
{
    private const string OwnerFile = "owner.pid";
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(15);

    /// <param name="prefix">e.g. "djag-pg-"</param>
    /// <param name="serverPidFile">where the server in such a dir writes its PID, relative to the dir</param>
    /// <param name="gracefulSignal">the signal that stops that server cleanly</param>
    public static async Task<string> CreateAsync(string prefix, string serverPidFile, int gracefulSignal)
    {
        await ReapOrphansAsync(prefix, serverPidFile, gracefulSignal);
        var path = Directory.CreateTempSubdirectory(prefix).FullName;
        await File.WriteAllTextAsync(Path.Combine(path, OwnerFile), Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        return path;
    }

    public static int? ReadPid(string path)
    {
        try
        {
            var firstLine = File.ReadLines(path).FirstOrDefault();
            return int.TryParse(firstLine, NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid) ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Sends the graceful signal, then SIGKILL if the process is still there after the timeout.</summary>
    public static async Task TerminateAsync(int pid, int gracefulSignal)
    {
        Native.Signal(pid, gracefulSignal);
        if (!await ProcessRunner.WaitUntilAsync(() => !Native.IsAlive(pid), StopTimeout))
        {
            Native.Signal(pid, Native.SigKill);
            await ProcessRunner.WaitUntilAsync(() => !Native.IsAlive(pid), StopTimeout);
        }
    }

    private static async Task ReapOrphansAsync(string prefix, string serverPidFile, int gracefulSignal)
    {
        foreach (var dir in Directory.GetDirectories(Path.GetTempPath(), prefix + "*"))
        {
            var owner = ReadPid(Path.Combine(dir, OwnerFile));
            var orphaned = owner is { } pid
                ? !Native.IsAlive(pid)
                : Directory.GetCreationTimeUtc(dir) < DateTime.UtcNow.AddHours(-1); // no owner yet: maybe being created right now
            if (!orphaned)
            {
                continue;
            }

            if (ReadPid(Path.Combine(dir, serverPidFile)) is { } server && Native.IsAlive(server))
            {
                await TerminateAsync(server, gracefulSignal);
            }

            try
            {
                ProcessRunner.DeleteDirectory(dir);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Someone else's leftovers that we may not delete are not our failure.
            }
        }
    }
}
