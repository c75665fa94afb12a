using System.Globalization;

namespace Djag.Bench.Infrastructure;

/// <summary>Resident memory and CPU time of a process, from /proc (Linux).</summary>
internal readonly record struct ProcSample(long RssBytes, double CpuSeconds, double ReapedChildrenCpuSeconds);

internal static class ProcStats
{
    /// <summary>USER_HZ: /proc/PID/stat counts CPU time in these ticks; 100 on every Linux build that matters.</summary>
    private const double TicksPerSecond = 100;

    /// <summary>The sample of a running process, or null when it is gone.</summary>
    public static ProcSample? Read(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");

            // "pid (comm) state ppid ...": fields after the last ')' start at field 3; utime is field 14.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            double Field(int n) => double.Parse(fields[n - 3], CultureInfo.InvariantCulture);
            var rss = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            var rssKb = rss is null ? 0 : long.Parse(rss.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
            return new ProcSample(rssKb * 1024, (Field(14) + Field(15)) / TicksPerSecond, (Field(16) + Field(17)) / TicksPerSecond);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>Pids whose parent is <paramref name="parent"/>.</summary>
    public static IEnumerable<int> Children(int parent)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(dir, "stat"));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            if (fields.Length > 1 && int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var ppid) && ppid == parent)
            {
                yield return pid;
            }
        }
    }

    /// <summary>CPU seconds of a server and all its children, live and reaped (PostgreSQL's backends come and go).</summary>
    public static double TreeCpuSeconds(int root) =>
        Read(root) is { } self
            ? self.CpuSeconds + self.ReapedChildrenCpuSeconds + Children(root).Sum(c => Read(c) is { } s ? s.CpuSeconds + s.ReapedChildrenCpuSeconds : 0)
            : 0;
}
