using System.Runtime.InteropServices;

namespace Djag.Bench.Infrastructure;

/// <summary>kill(2) with a chosen signal: .NET only sends SIGKILL, a beat is stopped gracefully with SIGTERM, and workers are
/// paused with SIGSTOP.</summary>
internal static partial class Native
{
    public const int SigTerm = 15;
    public const int SigCont = 18;
    public const int SigStop = 19;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);

    public static void Signal(int pid, int signal) => _ = SendSignal(pid, signal);
}
