using Djag.Persistence.Operations;
using Djag.Persistence.Runs;

namespace Djag.Admin.Display;

public sealed record GanttBar(long RunId, double X, double Y, double Width, string Css, string Title);

public sealed record GanttLabel(string Task, double Y);

/// <summary>An axis label; <see cref="Anchor"/> is the SVG text-anchor, so the first and last stay inside the picture.</summary>
public sealed record GanttTick(double X, string Label, string Anchor);

/// <summary>
/// A server-rendered timeline of runs: one row per task, one bar per run from its start to its end (or
/// now, while it runs). Coordinates are SVG user units; the picture scales to its container.
/// </summary>
public sealed record Gantt(IReadOnlyList<GanttLabel> Labels, IReadOnlyList<GanttBar> Bars, IReadOnlyList<GanttTick> Ticks, double Width, double Height)
{
    public const double LabelWidth = 180;
    public const double ChartWidth = 820;
    public const double RowHeight = 24;
    public const double Top = 24;

    public static Gantt Layout(IEnumerable<RunView> runs, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var started = runs.Where(r => r.StartedAt is not null).ToList();
        if (started.Count == 0)
        {
            return new Gantt([], [], [], LabelWidth + ChartWidth, Top);
        }

        var start = started.Min(r => r.StartedAt!.Value);
        var end = started.Max(r => r.FinishedAt ?? now);
        var span = Math.Max((end - start).TotalSeconds, 1);
        var tasks = started.GroupBy(r => r.Task).OrderBy(g => g.Min(r => r.StartedAt)).Select(g => g.Key).ToList();
        var row = tasks.Select((t, i) => (t, i)).ToDictionary(x => x.t, x => x.i, StringComparer.Ordinal);
        double X(DateTimeOffset t) => LabelWidth + ((t - start).TotalSeconds / span * ChartWidth);

        var bars = started.Select(r =>
        {
            var x = X(r.StartedAt!.Value);
            var width = Math.Max(X(r.FinishedAt ?? now) - x, 2);
            var css = r.Outcome ?? (r.State == RunStates.Running ? "running" : r.State);
            var title = $"{r.Task} #{r.Id} (attempt {r.Attempt}): {Fmt.Time(r.StartedAt)} → {(r.FinishedAt is null ? "running" : Fmt.Time(r.FinishedAt))}, {r.Outcome ?? r.State}";
            return new GanttBar(r.Id, x, Top + (row[r.Task] * RowHeight) + 4, width, css, title);
        }).ToList();
        var ticks = Enumerable.Range(0, 5).Select(i =>
        {
            var at = start + TimeSpan.FromSeconds(span * i / 4);
            var label = at.UtcDateTime.ToString(span > 86_400 ? "MM-dd HH:mm" : "HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);
            return new GanttTick(X(at), label, i switch { 0 => "start", 4 => "end", _ => "middle" });
        }).ToList();
        return new Gantt([.. tasks.Select(t => new GanttLabel(t, Top + (row[t] * RowHeight) + 16))], bars, ticks, LabelWidth + ChartWidth + 20, Top + (tasks.Count * RowHeight) + 8);
    }
}
