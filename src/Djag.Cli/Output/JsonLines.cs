using System.Text.Encodings.Web;
using System.Text.Json;
using Djag.Persistence.Operations;

namespace Djag.Cli.Output;

/// <summary><c>--format jsonl</c>: one record per line in the API's JSON shape (<see cref="OperationsJson"/>).</summary>
internal static class JsonLines
{
    // The API's names and values; relaxed escaping keeps "+00:00" and quotes readable in a terminal (never HTML).
    private static readonly JsonSerializerOptions Options = new(OperationsJson.Options)
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = false,
    };

    public static void Write<T>(TextWriter output, IEnumerable<T> records)
    {
        foreach (var record in records)
        {
            output.WriteLine(JsonSerializer.Serialize(record, Options));
        }
    }
}
