using System.CommandLine;

namespace Djag.Cli.Output;

internal enum OutputFormat
{
    Table,
    JsonLines,
}

internal static class OutputFormatOption
{
    public static Option<string> Create() =>
        CreateChoice("table", "table (aligned columns, times in UTC) or jsonl (one JSON object per line, the API's field names).", "table", "jsonl");

    /// <summary>A --format option limited to <paramref name="choices"/>.</summary>
    public static Option<string> CreateChoice(string defaultValue, string description, params string[] choices)
    {
        var option = new Option<string>("--format") { Description = description, DefaultValueFactory = _ => defaultValue };
        option.AcceptOnlyFromAmong(choices);
        return option;
    }

    public static OutputFormat Get(ParseResult parseResult, Option<string> option) =>
        parseResult.GetValue(option) == "jsonl" ? OutputFormat.JsonLines : OutputFormat.Table;
}
