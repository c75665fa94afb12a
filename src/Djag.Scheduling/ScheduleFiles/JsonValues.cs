using System.Text.Json;

namespace Djag.Scheduling.ScheduleFiles;

internal static class JsonValues
{
    public static JsonElement EmptyArray { get; } = Parse("[]");

    public static JsonElement EmptyObject { get; } = Parse("{}");

    public static string KindName(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    private static JsonElement Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }
}
