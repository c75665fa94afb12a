using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Djag.Bench.Reporting;

/// <summary>
/// Prints each figure as one JSON line on stdout the moment it is known (so a run cut short still leaves its
/// numbers), and all of them as a table at the end.
/// </summary>
internal sealed class Report(TextWriter output)
{
    private readonly List<Figure> _figures = [];

    public IReadOnlyList<Figure> Figures => _figures;

    public Figure Add(Figure figure)
    {
        _figures.Add(figure);
        output.WriteLine(ToJson(figure));
        output.Flush();
        return figure;
    }

    public Figure Add(string name, double value, string unit, Target? target = null, string? note = null) =>
        Add(new Figure(name, value, unit, target, note));

    /// <summary>Adds name.p50, name.p99 and name.max.</summary>
    public void Add(string name, Distribution d, string unit, Target? p50 = null, Target? p99 = null, string? note = null)
    {
        Add($"{name}.p50", d.P50, unit, p50, note ?? $"n={d.Count}");
        Add($"{name}.p99", d.P99, unit, p99);
        Add($"{name}.max", d.Max, unit);
    }

    /// <summary>A figure that could not be measured: it is printed, with the reason, and its target does not hold.</summary>
    public void Failed(string name, string unit, string why, Target? target = null) => Add(new Figure(name, null, unit, target, why));

    public double? Value(string name) => _figures.LastOrDefault(f => f.Name == name)?.Value;

    public void PrintTable()
    {
        var rows = _figures.Select(f => new[]
        {
            f.Name,
            f.Value is { } v ? Format(v) : "-",
            f.Unit,
            f.Target?.ToString() ?? "",
            f.Holds switch { true => "yes", false => "NO", null => "" },
            f.Note ?? "",
        }).ToList();
        string[] header = ["figure", "value", "unit", "target", "holds", "note"];
        var widths = header.Select((h, i) => Math.Min(60, rows.Select(r => r[i].Length).Append(h.Length).Max())).ToArray();
        var text = new StringBuilder().AppendLine();
        Line(header);
        text.AppendLine(string.Join("-+-", widths.Select(w => new string('-', w))));
        foreach (var row in rows)
        {
            Line(row);
        }

        var targets = _figures.Where(f => f.Holds is not null).ToList();
        text.AppendLine(CultureInfo.InvariantCulture, $"{targets.Count(f => f.Holds == true)} of {targets.Count} targets hold");
        output.Write(text.ToString());
        output.Flush();

        void Line(string[] cells) =>
            text.AppendLine(string.Join(" | ", cells.Select((c, i) => (c.Length > widths[i] ? c[..(widths[i] - 1)] + "…" : c).PadRight(widths[i]))).TrimEnd());
    }

    private static string Format(double v) =>
        Math.Abs(v) >= 100 ? v.ToString("0", CultureInfo.InvariantCulture) : v.ToString("0.###", CultureInfo.InvariantCulture);

    private static string ToJson(Figure f)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("name", f.Name);
            if (f.Value is { } v && double.IsFinite(v))
            {
                json.WriteNumber("value", Math.Round(v, 3));
            }
            else
            {
                json.WriteNull("value");
            }

            json.WriteString("unit", f.Unit);
            if (f.Target is { } target)
            {
                json.WriteString("target", target.ToString());
                json.WriteBoolean("holds", f.Holds == true);
            }

            if (f.Note is { } note)
            {
                json.WriteString("note", note);
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
