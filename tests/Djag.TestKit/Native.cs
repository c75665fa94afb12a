using System.Runtime.InteropServices;

namespace Djag.TestKit;

/// <summary>The few POSIX calls .NET does not expose: sending a chosen signal, and liveness of a process that is not our child.</summary>
public static partial class Native
{
    public const int SigInt = 2;
    public const int SigQuit = 3;
    public const int SigKill = 9;
    public const int SigTerm = 15;
    public const int SigCont = 18;
    public const int SigStop = 19;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);

    public static void Signal(int pid, int signal) => _ = SendSignal(pid, signal);

    /// <summary>
    /// True while the process runs. A zombie counts as gone: the postmaster is a grandchild (pg_ctl
    /// daemonizes it), so whoever reaps it is not us, and a zombie holds no port or files.
    /// </summary>
    public static bool IsAlive(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return true;
        }

        // "pid (comm) S ...": the state follows the last ')', as comm may itself contain one.
        var close = stat.LastIndexOf(')');
        var state = close >= 0 && close + 2 < stat.Length ? stat[close + 2] : 'R';
        return state is not ('Z' or 'X');
    }
}
