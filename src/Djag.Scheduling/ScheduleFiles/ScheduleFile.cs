using System.Text.Json;

namespace Djag.Scheduling.ScheduleFiles;

/// <summary>Reads and writes schedule files (YAML or JSON, the seed's snake_case names).</summary>
public static class ScheduleFile
{
    /// <summary>
    /// Parses and validates a whole file. Either the result holds a document and no errors, or no document and
    /// every error found, each naming its path (e.g. "tasks[2].cron").
    /// </summary>
    public static ScheduleFileResult Parse(string text, ScheduleFileOptions options)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(options);
        var format = options.Format ?? DetectFormat(text);
        var errors = new List<ScheduleFileError>();
        var root = format == ScheduleFileFormat.Json ? JsonInput.Read(text, errors) : YamlInput.Read(text, errors);
        if (root is not { } element)
        {
            return new ScheduleFileResult(null, errors);
        }

        // What no field could store is refused wherever it stands, with its path (e.g. "tasks[0].args[1]").
        StorableText.Check(element, "", (path, message) => errors.Add(new ScheduleFileError(path, message)));
        if (errors.Count > 0)
        {
            return new ScheduleFileResult(null, errors);
        }

        var document = new ScheduleDocumentReader(options, errors).Read(element);
        return errors.Count == 0 ? new ScheduleFileResult(document, []) : new ScheduleFileResult(null, errors);
    }

    /// <summary>JSON when the file name ends in ".json" or the text starts with '{'; YAML otherwise.</summary>
    public static ScheduleFileFormat DetectFormat(string text, string? fileName = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (fileName is not null && fileName.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            return ScheduleFileFormat.Json;
        }

        return text.AsSpan().TrimStart().StartsWith("{") ? ScheduleFileFormat.Json : ScheduleFileFormat.Yaml;
    }

    /// <summary>The document as YAML. Values equal to their defaults are omitted; cron_base and timezone are always written.</summary>
    public static string ToYaml(ScheduleDocument document) => YamlOutput.Write(ScheduleDocumentWriter.ToJson(document));

    /// <summary>The document as indented JSON, in the same shape as <see cref="ToYaml"/>.</summary>
    public static string ToJson(ScheduleDocument document)
    {
        var node = ScheduleDocumentWriter.ToJson(document);
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            node.WriteTo(writer);
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }
}

public enum ScheduleFileFormat
{
    Yaml,
    Json,
}

/// <param name="DefaultTimeZone">Timezone of tasks that do not set one: the Timezone setting, "UTC" by default.</param>
/// <param name="Format">Null detects the format with <see cref="ScheduleFile.DetectFormat"/>.</param>
public sealed record ScheduleFileOptions(string DefaultTimeZone = "UTC", ScheduleFileFormat? Format = null);

/// <summary>One problem in a file. <see cref="Path"/> is empty for problems of the whole file (malformed YAML).</summary>
public sealed record ScheduleFileError(string Path, string Message)
{
    public override string ToString() => Path.Length == 0 ? Message : $"{Path}: {Message}";
}

public sealed record ScheduleFileResult(ScheduleDocument? Document, IReadOnlyList<ScheduleFileError> Errors)
{
    public bool IsValid => Document is not null;
}
