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

/// <summary>The machine's CPU ticks since boot over all cores, from the first line of /proc/stat.</summary>
internal readonly record struct MachineTicks(long Busy, long Total)
{
    public static MachineTicks Read()
    {
        // "cpu  user nice system idle iowait irq softirq steal guest guest_nice": guest time is already in user.
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..9]
            .Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        var total = fields.Sum();
        return new MachineTicks(total - fields[3] - fields[4], total);
    }
}

/// <summary>
/// Reads the machine's CPU ticks every 50 ms from an instant on, to tell what share of all cores' time a window from
/// that instant was busy: whether the work in it was bound by CPU or by waiting.
/// </summary>
internal sealed class BusySampler : IAsyncDisposable
{
    private readonly List<(DateTimeOffset At, MachineTicks Ticks)> _samples = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public BusySampler(DateTimeOffset from) => _loop = SampleAsync(from);

    /// <summary>The busy share, 0 to 1, from the first sample to the last one taken by <paramref name="end"/>.</summary>
    public double ShareUntil(DateTimeOffset end)
    {
        lock (_samples)
        {
            var (first, last) = (_samples[0].Ticks, _samples.LastOrDefault(s => s.At <= end, _samples[0]).Ticks);
            return last.Total > first.Total ? (double)(last.Busy - first.Busy) / (last.Total - first.Total) : 0;
        }
    }

    private async Task SampleAsync(DateTimeOffset from)
    {
        try
        {
            await Schedules.DelayUntilAsync(from, _stop.Token);
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
            do
            {
                var sample = (TimeProvider.System.GetUtcNow(), MachineTicks.Read());
                lock (_samples)
                {
                    _samples.Add(sample);
                }
            }
            while (await timer.WaitForNextTickAsync(_stop.Token));
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
