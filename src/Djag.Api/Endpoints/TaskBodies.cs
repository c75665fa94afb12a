using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Djag.Persistence.Operations;
using Djag.Persistence.Schedules;
using Djag.Scheduling;
using Djag.Scheduling.ScheduleFiles;

namespace Djag.Api.Endpoints;

/// <summary>
/// Turns a <see cref="TaskBody"/> into the edit of the write path by reading it as the one entry of a schedule
/// file: a task posted to the API is accepted exactly when the same entry in a file would be, with the same
/// messages, and the validation exists once.
/// </summary>
internal static class TaskBodies
{
    private const string Entry = "tasks[0]";

    private static readonly JsonSerializerOptions EntryJson = new(OperationsJson.Options)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The edit, or a <see cref="ScheduleValidationException"/> whose fields are the body's (e.g. "cron").</summary>
    public static TaskEdit ToEdit(TaskBody body)
    {
        // The JSON fields are kept as the client sent them, escapes and all; text that cannot be written back out
        // (a lone surrogate) or stored (a NUL) is refused here, naming its path.
        var unstorable = new List<FieldError>();
        foreach (var (field, value) in new[] { ("args", body.Args), ("kwargs", body.Kwargs), ("headers", body.Headers) })
        {
            if (value is { } element)
            {
                StorableText.Check(element, field, (path, message) => unstorable.Add(new FieldError(path, message)));
            }
        }

        if (unstorable.Count > 0)
        {
            throw new ScheduleValidationException(unstorable);
        }

        var file = new JsonObject { ["tasks"] = new JsonArray(JsonSerializer.SerializeToNode(body, EntryJson)) };
        var parsed = ScheduleFile.Parse(file.ToJsonString(), new ScheduleFileOptions(Format: ScheduleFileFormat.Json));
        if (parsed.Document is not { } document)
        {
            throw new ScheduleValidationException([.. parsed.Errors.Select(e => new FieldError(FieldOf(e.Path), e.Message))]);
        }

        return ScheduleDocumentMapping.ToChange(document, [], [], prune: false).Tasks.Single();
    }

    private static string FieldOf(string path) =>
        path == Entry ? "" : path.StartsWith(Entry + ".", StringComparison.Ordinal) ? path[(Entry.Length + 1)..] : path;
}
