namespace Djag.Cli.Output;

/// <summary>"label:  value" lines of one record (tasks show, runs show, why), labels aligned.</summary>
internal sealed class Fields
{
    private readonly List<(string Label, string Value)> _lines = [];

    public Fields Add(string label, string? value)
    {
        _lines.Add((label, string.IsNullOrEmpty(value) ? Text.None : value));
        return this;
    }

    public void Write(TextWriter output, string indent = "")
    {
        // The longest "label:" gets two spaces, like a table's column gap.
        var width = _lines.Max(l => l.Label.Length) + 3;
        foreach (var (label, value) in _lines)
        {
            // A multi-line value (an error, output tail) keeps its lines, indented under the value column.
            var lines = value.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');
            output.WriteLine($"{indent}{(label + ":").PadRight(width)}{lines[0]}".TrimEnd());
            foreach (var more in lines.Skip(1))
            {
                output.WriteLine($"{indent}{new string(' ', width)}{more}".TrimEnd());
            }
        }
    }
}
