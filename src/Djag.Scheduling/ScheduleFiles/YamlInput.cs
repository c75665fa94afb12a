using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Djag.Scheduling.ScheduleFiles;

/// <summary>
/// Turns a YAML file into the JSON it stands for, so one validator serves both formats. Plain scalars are
/// typed by the YAML 1.2 core schema (null, booleans, integers, floats; everything else is a string);
/// quoted and block scalars are always strings.
/// </summary>
internal static partial class YamlInput
{
    private const string StringTag = "tag:yaml.org,2002:str";

    public static JsonElement? Read(string text, List<ScheduleFileError> errors)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException ex)
        {
            errors.Add(new ScheduleFileError("", $"malformed YAML at line {ex.Start.Line}, column {ex.Start.Column}: {ex.Message}"));
            return null;
        }

        switch (stream.Documents.Count)
        {
            case 0:
                errors.Add(new ScheduleFileError("", "the file is empty"));
                return null;
            case > 1:
                var second = stream.Documents[1].RootNode.Start;
                errors.Add(new ScheduleFileError("", $"the file holds {stream.Documents.Count} YAML documents (the second at line {second.Line}); expected one"));
                return null;
        }

        var before = errors.Count;
        var node = ToJson(stream.Documents[0].RootNode, "", errors);
        if (errors.Count > before)
        {
            return null;
        }

        using var document = JsonDocument.Parse(node?.ToJsonString() ?? "null");
        return document.RootElement.Clone();
    }

    /// <summary>The JSON value of a plain (unquoted) scalar; also tells the writer which strings need quotes.</summary>
    public static JsonNode? PlainScalar(string value)
    {
        if (value is "" or "~" or "null" or "Null" or "NULL")
        {
            return null;
        }

        if (value is "true" or "True" or "TRUE")
        {
            return JsonValue.Create(true);
        }

        if (value is "false" or "False" or "FALSE")
        {
            return JsonValue.Create(false);
        }

        if (IntegerPattern().IsMatch(value) && long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
        {
            return JsonValue.Create(integer);
        }

        if ((IntegerPattern().IsMatch(value) || FloatPattern().IsMatch(value))
            && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
            && double.IsFinite(number))
        {
            return JsonValue.Create(number);
        }

        return JsonValue.Create(value);
    }

    private static JsonNode? ToJson(YamlNode node, string path, List<ScheduleFileError> errors)
    {
        switch (node)
        {
            case YamlScalarNode scalar:
                var value = scalar.Value ?? "";
                var isString = scalar.Tag.IsEmpty ? scalar.Style != ScalarStyle.Plain : scalar.Tag.Value == StringTag;
                return isString ? JsonValue.Create(value) : PlainScalar(value);
            case YamlSequenceNode sequence:
                var array = new JsonArray();
                var index = 0;
                foreach (var item in sequence.Children)
                {
                    array.Add(ToJson(item, $"{path}[{index++}]", errors));
                }

                return array;
            case YamlMappingNode mapping:
                var obj = new JsonObject();
                foreach (var (keyNode, valueNode) in mapping.Children)
                {
                    if (keyNode is not YamlScalarNode { Value: { } key })
                    {
                        errors.Add(new ScheduleFileError(path, $"line {keyNode.Start.Line}, column {keyNode.Start.Column}: a key must be a plain string"));
                        continue;
                    }

                    var childPath = path.Length == 0 ? key : $"{path}.{key}";
                    obj[key] = ToJson(valueNode, childPath, errors);
                }

                return obj;
            default:
                errors.Add(new ScheduleFileError(path, $"line {node.Start.Line}, column {node.Start.Column}: unsupported YAML node"));
                return null;
        }
    }

    // YAML 1.2 core schema, decimal forms only: octal and hex integers are not numbers a schedule needs.
    [GeneratedRegex(@"^[-+]?[0-9]+$", RegexOptions.CultureInvariant)]
    private static partial Regex IntegerPattern();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex FloatPattern();
}
