using System.Text.Json;
using Djag.Scheduling;

namespace Djag.Cli.Remote;

/// <summary>
/// The RFC 7807 body of a refusal: title, detail and the contract's extensions "kind" and
/// "errors": [{"field", "message"}]. ASP.NET Core's own validation shape, "errors": {"field": ["message"]},
/// is read too, so a refusal from the framework still names its field.
/// </summary>
internal sealed record ProblemDetails(string? Kind, string? Title, string? Detail, IReadOnlyList<FieldError> Errors)
{
    /// <summary>The problem in the response, or null when its body is not JSON (a proxy's HTML page, nothing).</summary>
    public static async Task<ProblemDetails?> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.ValueKind == JsonValueKind.Object ? From(document.RootElement) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static ProblemDetails From(JsonElement root)
    {
        var errors = new List<FieldError>();
        if (root.TryGetProperty("errors", out var list))
        {
            if (list.ValueKind == JsonValueKind.Array)
            {
                errors.AddRange(list.EnumerateArray()
                    .Where(e => e.ValueKind == JsonValueKind.Object)
                    .Select(e => new FieldError(String(e, "field") ?? "", String(e, "message") ?? "")));
            }
            else if (list.ValueKind == JsonValueKind.Object)
            {
                foreach (var field in list.EnumerateObject().Where(f => f.Value.ValueKind == JsonValueKind.Array))
                {
                    errors.AddRange(field.Value.EnumerateArray()
                        .Where(m => m.ValueKind == JsonValueKind.String)
                        .Select(m => new FieldError(field.Name, m.GetString()!)));
                }
            }
        }

        return new ProblemDetails(String(root, "kind"), String(root, "title"), String(root, "detail"), errors);
    }

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
