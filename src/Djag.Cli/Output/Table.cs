using System.Text;

namespace Djag.Cli.Output;

/// <summary>Aligned columns for people: a header, two spaces between columns, the last column unpadded.</summary>
internal sealed class Table(params string[] header)
{
    private readonly List<string[]> _rows = [];

    public int Count => _rows.Count;

    public Table Add(params string?[] cells)
    {
        if (cells.Length != header.Length)
        {
            throw new ArgumentException($"{cells.Length} cells for {header.Length} columns", nameof(cells));
        }

        _rows.Add([.. cells.Select(c => c ?? "")]);
        return this;
    }

    /// <summary>Writes the table, or <paramref name="empty"/> alone when there are no rows.</summary>
    public void Write(TextWriter output, string empty, string indent = "")
    {
        if (_rows.Count == 0)
        {
            output.WriteLine(indent + empty);
            return;
        }

        var widths = header.Select((h, i) => _rows.Aggregate(h.Length, (w, row) => Math.Max(w, row[i].Length))).ToArray();
        WriteRow(output, header, widths, indent);
        foreach (var row in _rows)
        {
            WriteRow(output, row, widths, indent);
        }
    }

    private static void WriteRow(TextWriter output, string[] cells, int[] widths, string indent)
    {
        var line = new StringBuilder(indent);
        for (var i = 0; i < cells.Length; i++)
        {
            line.Append(i == cells.Length - 1 ? cells[i] : cells[i].PadRight(widths[i] + 2));
        }

        output.WriteLine(line.ToString().TrimEnd());
    }
}
