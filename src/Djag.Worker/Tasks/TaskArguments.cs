using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;

namespace Djag.Worker;

/// <summary>
/// Binds a run's args and kwargs to a task's argument type, turning every mismatch into a
/// <see cref="TaskArgumentException"/> that names the argument, as a person reading a failed run needs it.
/// </summary>
internal static partial class TaskArguments
{
    private const int MaxShownValueLength = 80;

    internal static readonly JsonSerializerOptions Options = new()
    {
        TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        // Missing constructor arguments, nulls for non-nullable members and unknown names are errors, not defaults.
        RespectRequiredConstructorParameters = true,
        RespectNullableAnnotations = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    public static TArgs Bind<TArgs>(JsonElement args, JsonElement kwargs)
    {
        var typeInfo = Options.GetTypeInfo(typeof(TArgs));
        var merged = kwargs.ValueKind == JsonValueKind.Object ? JsonObject.Create(kwargs)! : [];
        if (typeInfo.Kind == JsonTypeInfoKind.Object)
        {
            var problems = new List<string>();
            AddPositional(typeInfo, args, merged, problems);
            CheckNames(typeInfo, merged, problems);
            if (problems.Count > 0)
            {
                throw new TaskArgumentException(string.Join("; ", problems));
            }
        }
        else if (args.ValueKind == JsonValueKind.Array && args.GetArrayLength() > 0)
        {
            throw new TaskArgumentException($"the task takes named arguments only, got {args.GetArrayLength()} positional");
        }

        try
        {
            return merged.Deserialize<TArgs>(Options)!;
        }
        catch (JsonException ex)
        {
            throw new TaskArgumentException(Describe(ex, typeof(TArgs), merged), ex);
        }
    }

    /// <summary>Positional args fill the constructor parameters in order.</summary>
    private static void AddPositional(JsonTypeInfo typeInfo, JsonElement args, JsonObject merged, List<string> problems)
    {
        if (args.ValueKind != JsonValueKind.Array || args.GetArrayLength() == 0)
        {
            return;
        }

        var parameters = typeInfo.Properties
            .Where(p => p.AssociatedParameter is not null)
            .OrderBy(p => p.AssociatedParameter!.Position)
            .ToList();
        var count = args.GetArrayLength();
        if (count > parameters.Count)
        {
            problems.Add(parameters.Count == 0
                ? $"the task takes no positional arguments, got {count}"
                : $"the task takes at most {parameters.Count} positional arguments ({string.Join(", ", parameters.Select(p => p.Name))}), got {count}");
        }

        foreach (var (parameter, value) in parameters.Zip(args.EnumerateArray()))
        {
            var name = parameter.Name;
            if (merged.ContainsKey(name))
            {
                problems.Add($"argument '{name}' is given both by position and by name");
                continue;
            }

            merged[name] = JsonSerializer.SerializeToNode(value);
        }
    }

    private static void CheckNames(JsonTypeInfo typeInfo, JsonObject merged, List<string> problems)
    {
        var known = typeInfo.Properties.Where(p => p.Set is not null || p.AssociatedParameter is not null).ToList();
        if (!typeInfo.Properties.Any(p => p.IsExtensionData))
        {
            foreach (var (name, _) in merged)
            {
                if (!known.Any(p => p.Name == name))
                {
                    problems.Add($"argument '{name}' is not known (known: {string.Join(", ", known.Select(p => p.Name))})");
                }
            }
        }

        foreach (var property in known)
        {
            var required = property.IsRequired || property.AssociatedParameter is { HasDefaultValue: false };
            if (required && !merged.ContainsKey(property.Name))
            {
                problems.Add($"argument '{property.Name}' is required but missing");
            }
        }
    }

    /// <summary>"argument 'seconds': expected a number, got "abc"", from where System.Text.Json stopped.</summary>
    private static string Describe(JsonException ex, Type root, JsonObject merged)
    {
        var segments = ParsePath(ex.Path);
        if (segments.Count == 0)
        {
            return $"arguments: {ex.Message}";
        }

        var name = segments[0] + string.Concat(segments.Skip(1).Select(s => s.StartsWith('[') ? s : "." + s));
        JsonNode? node = merged;
        Type? type = root;
        foreach (var segment in segments)
        {
            node = segment.StartsWith('[')
                ? node is JsonArray array && int.TryParse(segment[1..^1], CultureInfo.InvariantCulture, out var i) && i < array.Count ? array[i] : null
                : node is JsonObject obj ? obj[segment] : null;
            type = type is null ? null : MemberType(type, segment);
        }

        var got = node is null ? "null" : Shorten(node.ToJsonString());
        return type is null
            ? $"argument '{name}': cannot use {got}"
            : $"argument '{name}': expected {Expected(type)}, got {got}";
    }

    /// <summary>The type of a property (by JSON name), an array element or a dictionary value.</summary>
    private static Type? MemberType(Type type, string segment)
    {
        var info = Options.GetTypeInfo(type);
        return info.Kind switch
        {
            JsonTypeInfoKind.Object => info.Properties.FirstOrDefault(p => p.Name == segment)?.PropertyType,
            JsonTypeInfoKind.Enumerable or JsonTypeInfoKind.Dictionary => info.ElementType,
            _ => null,
        };
    }

    private static string Expected(Type type)
    {
        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            return Expected(underlying) + " or null";
        }

        if (type.IsEnum)
        {
            return "one of " + string.Join(", ", Enum.GetNames(type));
        }

        return Type.GetTypeCode(type) switch
        {
            TypeCode.String or TypeCode.Char => "a string",
            TypeCode.Boolean => "true or false",
            TypeCode.Byte or TypeCode.SByte or TypeCode.Int16 or TypeCode.UInt16 or TypeCode.Int32 or TypeCode.UInt32
                or TypeCode.Int64 or TypeCode.UInt64 => "an integer",
            TypeCode.Single or TypeCode.Double or TypeCode.Decimal => "a number",
            TypeCode.DateTime => "an ISO 8601 date-time string",
            _ when type == typeof(DateTimeOffset) => "an ISO 8601 date-time string",
            _ when type == typeof(TimeSpan) => "a duration string like \"00:05:00\"",
            _ when type == typeof(Guid) => "a GUID string",
            _ => Options.GetTypeInfo(type).Kind switch
            {
                JsonTypeInfoKind.Enumerable => "an array",
                JsonTypeInfoKind.Dictionary or JsonTypeInfoKind.Object => "an object",
                _ => $"a {type.Name} value",
            },
        };
    }

    private static List<string> ParsePath(string? path)
    {
        var segments = new List<string>();
        if (path is null)
        {
            return segments;
        }

        foreach (Match match in PathSegment().Matches(path))
        {
            segments.Add(match.Groups["name"].Success ? match.Groups["name"].Value
                : match.Groups["quoted"].Success ? match.Groups["quoted"].Value.Replace("''", "'", StringComparison.Ordinal)
                : $"[{match.Groups["index"].Value}]");
        }

        return segments;
    }

    private static string Shorten(string json) =>
        json.Length <= MaxShownValueLength ? json : json[..(MaxShownValueLength - 1)] + "…";

    /// <summary>System.Text.Json paths: <c>$.env.HOME</c>, <c>$['odd key']</c>, <c>$.args[1]</c>.</summary>
    [GeneratedRegex(@"\.(?<name>[^.\[]+)|\['(?<quoted>(?:[^']|'')*)'\]|\[(?<index>\d+)\]")]
    private static partial Regex PathSegment();
}
