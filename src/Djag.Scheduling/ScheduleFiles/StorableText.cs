using System.Globalization;
using System.Text.Json;

namespace Djag.Scheduling.ScheduleFiles;

/// <summary>
/// What the database cannot store, checked where the input arrives so it is refused naming its field instead of
/// failing in PostgreSQL: NUL characters (text and jsonb refuse them), lone UTF-16 surrogates (not Unicode text,
/// not encodable as UTF-8) and JSON numbers beyond the range of PostgreSQL's numeric.
/// </summary>
public static class StorableText
{
    /// <summary>The longest JSON number accepted, in characters.</summary>
    public const int MaxNumberLength = 1000;

    /// <summary>The largest exponent (either sign) of a JSON number; numeric holds 131072 digits before the point and 16383 after.</summary>
    public const int MaxExponent = 1000;

    /// <summary>Why <paramref name="value"/> cannot be stored, or null when it can.</summary>
    public static string? Problem(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '\0')
            {
                return "contains a NUL character (\\u0000), which cannot be stored";
            }

            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                return "contains a lone UTF-16 surrogate, which is not Unicode text";
            }
        }

        return null;
    }

    /// <summary>
    /// Checks every string, property name and number inside <paramref name="element"/> and reports each problem
    /// with its path below <paramref name="path"/> (e.g. "args[2].name"). The element's depth is bounded by the JSON
    /// reader that made it (64 by default).
    /// </summary>
    public static void Check(JsonElement element, string path, Action<string, string> error)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(error);
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (!TryGetName(property, out var name))
                    {
                        error(path, "a property name contains a lone UTF-16 surrogate, which is not Unicode text");
                        continue;
                    }

                    var child = path.Length == 0 ? Shown(name) : $"{path}.{Shown(name)}";
                    if (Problem(name) is { } problem)
                    {
                        error(child, $"the property name {problem}");
                    }

                    Check(property.Value, child, error);
                }

                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    Check(item, $"{path}[{index++}]", error);
                }

                break;
            case JsonValueKind.String:
                string text;
                try
                {
                    text = element.GetString()!;
                }
                catch (InvalidOperationException)
                {
                    error(path, "contains a lone UTF-16 surrogate, which is not Unicode text");
                    break;
                }

                if (Problem(text) is { } stringProblem)
                {
                    error(path, stringProblem);
                }

                break;
            case JsonValueKind.Number:
                if (NumberProblem(element.GetRawText()) is { } numberProblem)
                {
                    error(path, numberProblem);
                }

                break;
        }
    }

    private static string? NumberProblem(string raw)
    {
        if (raw.Length > MaxNumberLength)
        {
            return $"a number of {raw.Length} characters is too long: at most {MaxNumberLength}";
        }

        var e = raw.AsSpan().IndexOfAny('e', 'E');
        if (e >= 0 && (!int.TryParse(raw.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var exponent) || Math.Abs(exponent) > MaxExponent))
        {
            return $"the number {raw} is out of range: the exponent must be between -{MaxExponent} and {MaxExponent}";
        }

        return null;
    }

    private static bool TryGetName(JsonProperty property, out string name)
    {
        try
        {
            name = property.Name;
            return true;
        }
        catch (InvalidOperationException)
        {
            name = "";
            return false;
        }
    }

    /// <summary>A name as a path shows it: a NUL would cut the message short in many terminals.</summary>
    private static string Shown(string name) => name.Replace("\0", "\\u0000", StringComparison.Ordinal);
}
