using System.Text.Json;

namespace Djag.Scheduling.ScheduleFiles;

internal static class JsonInput
{
    private static readonly JsonDocumentOptions Options = new()
    {
        AllowDuplicateProperties = false,
        CommentHandling = JsonCommentHandling.Skip,
    };

    public static JsonElement? Read(string text, List<ScheduleFileError> errors)
    {
        try
        {
            using var document = JsonDocument.Parse(text, Options);
            return document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            errors.Add(new ScheduleFileError("", Describe(ex)));
            return null;
        }
        catch (InvalidOperationException ex)
        {
            // The reader decodes property names to find duplicates, and refuses a name with a lone surrogate escape.
            errors.Add(new ScheduleFileError("", $"malformed JSON: {ex.Message}"));
            return null;
        }
    }

    // System.Text.Json counts lines and bytes from 0 and appends them to the message; editors count from 1.
    private static string Describe(JsonException ex)
    {
        var message = ex.Message;
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut >= 0)
        {
            message = message[..cut];
        }

        return ex.LineNumber is { } line
            ? $"malformed JSON at line {line + 1}, column {(ex.BytePositionInLine ?? 0) + 1}: {message}"
            : $"malformed JSON: {message}";
    }
}
