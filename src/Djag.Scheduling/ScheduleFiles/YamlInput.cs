using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Djag.Scheduling.ScheduleFiles;

/// <summary>
/// Turns a YAML file into the JSON it stands for, so one validator serves both formats. Plain scalars are
/// typed by the YAML 1.2 core schema (null, booleans, integers, floats; everything else is a string);
/// quoted and block scalars are always strings.
/// </summary>
internal static partial class YamlInput
{
    private const string StringTag = "tag:yaml.org,2002:str";

    /// <summary>Deepest nesting of sequences and mappings, as System.Text.Json allows by default.</summary>
    public const int MaxDepth = 64;

    /// <summary>
    /// Most values (scalars, sequences and mappings) a file may stand for once its aliases are expanded: a few
    /// kilobytes of nested aliases would otherwise expand to billions ("billion laughs").
    /// </summary>
    public const int MaxValues = 100_000;

    public static JsonElement? Read(string text, List<ScheduleFileError> errors)
    {
        // A syntax error anywhere in the file is the one error reported: what was built before it means little.
        var found = new List<ScheduleFileError>();
        JsonNode? root;
        try
        {
            root = new Builder(found).Build(new Parser(new StringReader(text)));
        }
        catch (YamlException ex)
        {
            errors.Add(new ScheduleFileError("", $"malformed YAML at line {ex.Start.Line}, column {ex.Start.Column}: {ex.Message}"));
            return null;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or FormatException or OverflowException)
        {
            // YamlDotNet's scanner fails on some malformed text with exceptions of its own: an escape of an invalid
            // surrogate pair (e.g. "\ud835\u0041") reaches char.ConvertToUtf32, and a flow sequence opened before a
            // block mapping's key can end in InvalidOperationException.
            errors.Add(new ScheduleFileError("", $"malformed YAML: the YAML reader stopped ({ex.Message})"));
            return null;
        }

        if (found.Count > 0)
        {
            errors.AddRange(found);
            return null;
        }

        using var document = JsonDocument.Parse(root?.ToJsonString() ?? "null", new JsonDocumentOptions { MaxDepth = MaxDepth + 1 });
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

    /// <summary>
    /// Builds the JSON of a one-document stream from the parser's events, without recursion (a deeply nested file
    /// cannot exhaust the stack). Aliases are expanded (copied), within <see cref="MaxValues"/>. Builds nothing after
    /// the first problem of structure (it still reads on for syntax errors, except past the depth or value limit).
    /// </summary>
    private sealed class Builder(List<ScheduleFileError> errors)
    {
        private readonly Stack<Frame> _open = new();
        private readonly Dictionary<string, (JsonNode? Node, int Values)> _anchors = new(StringComparer.Ordinal);
        private readonly HashSet<string> _openAnchors = new(StringComparer.Ordinal);
        private int _values;
        private bool _tooLarge;

        public JsonNode? Build(Parser parser)
        {
            JsonNode? root = null;
            var documents = 0;
            Mark? second = null;
            var failed = false;
            while (parser.MoveNext())
            {
                var current = parser.Current!;
                if (current is DocumentStart start)
                {
                    documents++;
                    if (documents == 2)
                    {
                        second = start.Start;
                    }

                    continue;
                }

                if (documents != 1 || failed || current is DocumentEnd or StreamStart or StreamEnd)
                {
                    continue;
                }

                if (!Add(current, ref root))
                {
                    // The rest is still read, so a syntax error further on is the one reported; but not after a file
                    // nested too deep or expanding too far, where the rest could be most of the work.
                    failed = true;
                    if (_tooLarge)
                    {
                        break;
                    }
                }
            }

            if (documents == 0)
            {
                errors.Add(new ScheduleFileError("", "the file is empty"));
                return null;
            }

            if (documents > 1 && !_tooLarge)
            {
                errors.Clear();
                errors.Add(new ScheduleFileError("", $"the file holds {documents} YAML documents (the second at line {second!.Value.Line}); expected one"));
                return null;
            }

            return root;
        }

        /// <summary>Takes one event of the document; false after recording a problem.</summary>
        private bool Add(ParsingEvent current, ref JsonNode? root)
        {
            var path = _open.Count == 0 ? "" : _open.Peek().ChildPath;
            if (_open.TryPeek(out var parent) && parent.Node is JsonObject && parent.Key is null && current is not MappingEnd)
            {
                return TakeKey(parent, current);
            }

            switch (current)
            {
                case Scalar scalar:
                    var isString = scalar.Tag.IsEmpty ? scalar.Style != ScalarStyle.Plain : scalar.Tag.Value == StringTag;
                    if (StorableText.Problem(scalar.Value) is { } problem)
                    {
                        return Fail(path, scalar.Start, problem);
                    }

                    return Place(isString ? JsonValue.Create(scalar.Value) : PlainScalar(scalar.Value), 1, scalar.Anchor, scalar.Start, ref root);
                case AnchorAlias alias:
                    if (_openAnchors.Contains(alias.Value.Value))
                    {
                        return Fail(path, alias.Start, $"the alias *{alias.Value.Value} stands inside its own anchor");
                    }

                    if (!_anchors.TryGetValue(alias.Value.Value, out var anchored))
                    {
                        return Fail(path, alias.Start, $"the alias *{alias.Value.Value} names no anchor before it");
                    }

                    return Place(anchored.Node?.DeepClone(), anchored.Values, AnchorName.Empty, alias.Start, ref root);
                case MappingStart or SequenceStart:
                    var node = (NodeEvent)current;
                    if (_open.Count >= MaxDepth)
                    {
                        _tooLarge = true;
                        return Fail(path, node.Start, $"nested deeper than {MaxDepth} levels");
                    }

                    if (!Count(1, path, node.Start))
                    {
                        return false;
                    }

                    if (!node.Anchor.IsEmpty)
                    {
                        _openAnchors.Add(node.Anchor.Value);
                    }

                    _open.Push(new Frame(current is MappingStart ? new JsonObject() : new JsonArray(), path, node.Anchor, _values));
                    return true;
                case MappingEnd or SequenceEnd:
                    var done = _open.Pop();
                    if (!done.Anchor.IsEmpty)
                    {
                        _openAnchors.Remove(done.Anchor.Value);
                        _anchors[done.Anchor.Value] = (done.Node, _values - done.ValuesBefore + 1);
                    }

                    return Attach(done.Node, ref root);
                default:
                    return Fail(path, current.Start, "unsupported YAML node");
            }
        }

        private bool TakeKey(Frame mapping, ParsingEvent current)
        {
            if (current is not Scalar { Value: var key } scalar)
            {
                return Fail(mapping.Path, current.Start, "a key must be a plain string");
            }

            if (StorableText.Problem(key) is { } problem)
            {
                return Fail(mapping.Path, scalar.Start, $"the key {problem}");
            }

            if (((JsonObject)mapping.Node).ContainsKey(key))
            {
                errors.Add(new ScheduleFileError("", $"malformed YAML at line {scalar.Start.Line}, column {scalar.Start.Column}: Duplicate key '{key}'"));
                return false;
            }

            mapping.Key = key;
            return true;
        }

        /// <summary>A finished value (a scalar or an alias' copy) of <paramref name="values"/> values.</summary>
        private bool Place(JsonNode? value, int values, AnchorName anchor, Mark start, ref JsonNode? root)
        {
            if (!Count(values, _open.Count == 0 ? "" : _open.Peek().ChildPath, start))
            {
                return false;
            }

            if (!anchor.IsEmpty)
            {
                _anchors[anchor.Value] = (value, values);
            }

            return Attach(value, ref root);
        }

        private bool Attach(JsonNode? value, ref JsonNode? root)
        {
            if (!_open.TryPeek(out var parent))
            {
                root = value;
            }
            else if (parent.Node is JsonArray array)
            {
                // An anchored value may be placed again by an alias: the tree holds copies, never a shared node.
                array.Add(value?.Parent is null ? value : value.DeepClone());
                parent.Index++;
            }
            else
            {
                ((JsonObject)parent.Node)[parent.Key!] = value?.Parent is null ? value : value.DeepClone();
                parent.Key = null;
            }

            return true;
        }

        private bool Count(int values, string path, Mark start)
        {
            _values += values;
            _tooLarge = _values > MaxValues;
            return !_tooLarge || Fail(path, start, $"the file stands for more than {MaxValues} values once its aliases are expanded");
        }

        private bool Fail(string path, Mark start, string message)
        {
            errors.Add(new ScheduleFileError(path, $"line {start.Line}, column {start.Column}: {message}"));
            return false;
        }

        private sealed class Frame(JsonNode node, string path, AnchorName anchor, int valuesBefore)
        {
            public JsonNode Node { get; } = node;
            public string Path { get; } = path;
            public AnchorName Anchor { get; } = anchor;
            public int ValuesBefore { get; } = valuesBefore;
            public string? Key { get; set; }
            public int Index { get; set; }

            /// <summary>The path of the value that comes next in this sequence or mapping.</summary>
            public string ChildPath => Node is JsonArray ? $"{Path}[{Index}]" : Path.Length == 0 ? Key ?? "" : $"{Path}.{Key}";
        }
    }

    // YAML 1.2 core schema, decimal forms only: octal and hex integers are not numbers a schedule needs.
    [GeneratedRegex(@"^[-+]?[0-9]+$", RegexOptions.CultureInvariant)]
    private static partial Regex IntegerPattern();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex FloatPattern();
}
