using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Djag.Scheduling.ScheduleFiles;

/// <summary>
/// Writes the JSON form of a document as block YAML. JSON values inside a task (args, kwargs, headers) and simulated outcomes are
/// written in flow style, which reads like the JSON they are. A string is quoted whenever, unquoted, it would
/// read back as something else ("true", "30", "" ...).
/// </summary>
internal static class YamlOutput
{
    // Read as strings here (YAML 1.2), but as booleans by YAML 1.1 tools people also use on these files.
    private static readonly string[] Yaml11Booleans = ["y", "n", "yes", "no", "on", "off"];

    private static readonly string[] FlowFields = ["args", "kwargs", "headers", "outcomes"];

    public static string Write(JsonNode root)
    {
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        var emitter = new Emitter(text);
        emitter.Emit(new StreamStart());
        emitter.Emit(new DocumentStart());
        Emit(emitter, root, flow: false);
        emitter.Emit(new DocumentEnd(isImplicit: true));
        emitter.Emit(new StreamEnd());
        return text.ToString();
    }

    private static void Emit(IEmitter emitter, JsonNode? node, bool flow)
    {
        switch (node)
        {
            case JsonObject obj:
                emitter.Emit(new MappingStart(AnchorName.Empty, TagName.Empty, isImplicit: true, flow ? MappingStyle.Flow : MappingStyle.Block));
                foreach (var (key, value) in obj)
                {
                    Scalar(emitter, key);
                    Emit(emitter, value, flow || FlowFields.Contains(key, StringComparer.Ordinal));
                }

                emitter.Emit(new MappingEnd());
                break;
            case JsonArray array:
                emitter.Emit(new SequenceStart(AnchorName.Empty, TagName.Empty, isImplicit: true, flow ? SequenceStyle.Flow : SequenceStyle.Block));
                foreach (var item in array)
                {
                    Emit(emitter, item, flow);
                }

                emitter.Emit(new SequenceEnd());
                break;
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                Scalar(emitter, value.GetValue<string>());
                break;
            case JsonValue value:
                // Numbers and booleans in their JSON spelling are plain YAML scalars of the same value.
                emitter.Emit(new Scalar(AnchorName.Empty, TagName.Empty, value.ToJsonString(), ScalarStyle.Plain, isPlainImplicit: true, isQuotedImplicit: false));
                break;
            default:
                emitter.Emit(new Scalar(AnchorName.Empty, TagName.Empty, "null", ScalarStyle.Plain, isPlainImplicit: true, isQuotedImplicit: false));
                break;
        }
    }

    private static void Scalar(IEmitter emitter, string value)
    {
        var readsAsString = YamlInput.PlainScalar(value) is JsonValue v && v.GetValueKind() == JsonValueKind.String
            && !Yaml11Booleans.Contains(value, StringComparer.OrdinalIgnoreCase);

        // YamlDotNet writes a leading tab plainly ("name: \tx"), which reads back as "x": edge whitespace is quoted.
        var edgeSpace = value.Length > 0 && (char.IsWhiteSpace(value[0]) || char.IsWhiteSpace(value[^1]));
        var style = !readsAsString || edgeSpace ? ScalarStyle.DoubleQuoted
            : value.Contains('\n', StringComparison.Ordinal) ? ScalarStyle.Literal
            : ScalarStyle.Any;
        emitter.Emit(new Scalar(AnchorName.Empty, TagName.Empty, value, style, isPlainImplicit: true, isQuotedImplicit: true));
    }
}
