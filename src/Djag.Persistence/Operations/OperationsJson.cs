using System.Text.Json;
using System.Text.Json.Serialization;

namespace Djag.Persistence.Operations;

/// <summary>
/// The JSON of the operation records on the HTTP API and in <c>djag ... --format jsonl</c>: snake_case
/// names and enum values, ISO 8601 times. The API server and the CLI's HTTP client share it, so a record
/// survives the trip unchanged.
/// </summary>
public static class OperationsJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DictionaryKeyPolicy = JsonNamingPolicy.SnakeCaseLower,

            // The web defaults read "30" as 30; a number sent as a string is a client's type error, refused.
            NumberHandling = JsonNumberHandling.Strict,
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
