using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using Djag.Scheduling.ScheduleFiles;

namespace Djag.Scheduling.Tests.ScheduleFiles;

/// <summary>
/// Generated schedule files, valid and made bad in one way each, in YAML and JSON: the parser either accepts
/// (and a parsed document survives export and parse unchanged) or returns errors that name the field; it never throws.
/// </summary>
public sealed class ScheduleFilePropertyTests
{
    private static readonly ScheduleFileOptions Options = new();

    private static string Yaml(JsonNode node) => YamlOutput.Write(node);

    private static ScheduleFileResult Parse(string text, ScheduleFileFormat format)
    {
        try
        {
            return ScheduleFile.Parse(text, Options with { Format = format });
        }
        catch (Exception ex)
        {
            throw new InvalidOperationException($"the parser threw on a {format} file instead of reporting an error:\n{Show(text)}", ex);
        }
    }

    private static string Show(string text) => text.Length > 1500 ? text[..1500] + $"... ({text.Length} characters)" : text;

    [Fact]
    public void Property_generated_valid_files_parse_and_survive_export_and_parse_unchanged()
    {
        BadInputGen.Document.Sample(file =>
        {
            foreach (var (text, format) in new[] { (Yaml(file), ScheduleFileFormat.Yaml), (file.ToJsonString(), ScheduleFileFormat.Json) })
            {
                var parsed = Parse(text, format);
                Assert.True(parsed.IsValid, $"{format}: {string.Join("\n", parsed.Errors)}\n{Show(text)}");
                var document = parsed.Document!;
                var entries = file["tasks"]!.AsArray();
                Assert.Equal(entries.Select(e => (string)e!["name"]!), document.Tasks.Select(t => t.Name));
                Assert.Equal(entries.Select(e => (string?)e!["description"] ?? ""), document.Tasks.Select(t => t.Description));
                Assert.Equal(file["dependencies"]?.AsArray().Count ?? 0, document.Dependencies.Count);
                for (var i = 0; i < entries.Count; i++)
                {
                    Assert.True(JsonNode.DeepEquals(entries[i]!["args"] ?? new JsonArray(), JsonNode.Parse(document.Tasks[i].Args.GetRawText())), $"args of {document.Tasks[i].Name}");
                    Assert.True(JsonNode.DeepEquals(entries[i]!["kwargs"] ?? new JsonObject(), JsonNode.Parse(document.Tasks[i].Kwargs.GetRawText())), $"kwargs of {document.Tasks[i].Name}");
                }

                foreach (var (exported, exportFormat) in new[] { (ScheduleFile.ToYaml(document), ScheduleFileFormat.Yaml), (ScheduleFile.ToJson(document), ScheduleFileFormat.Json) })
                {
                    var again = Parse(exported, exportFormat);
                    Assert.True(again.IsValid, $"the {exportFormat} export does not parse: {string.Join("\n", again.Errors)}\n{Show(exported)}");
                    Assert.Equal(document, again.Document);
                }
            }
        }, iter: 200, threads: 1, print: f => f.ToJsonString());
    }

    [Fact]
    public void Property_a_bad_task_is_refused_naming_its_field_and_a_valid_one_is_read_verbatim()
    {
        Gen.Select(BadInputGen.BadTasks, Gen.Bool).Sample((bad, yaml) =>
        {
            var file = new JsonObject { ["tasks"] = new JsonArray(bad.Entry.DeepClone()) };
            var format = yaml && !bad.HasLoneSurrogate ? ScheduleFileFormat.Yaml : ScheduleFileFormat.Json;
            var text = format == ScheduleFileFormat.Yaml ? Yaml(file) : bad.Render(file.ToJsonString());
            var parsed = Parse(text, format);
            if (bad.Valid || (format == ScheduleFileFormat.Yaml && bad.YamlReadsAsString))
            {
                Assert.True(parsed.IsValid, $"{bad.Kind} ({format}) should be accepted: {string.Join("\n", parsed.Errors)}");
                var task = Assert.Single(parsed.Document!.Tasks);
                Assert.Equal((string)bad.Entry["name"]!, task.Name);
                Assert.Equal((string?)bad.Entry["description"] ?? "", task.Description);
                return;
            }

            Assert.False(parsed.IsValid, $"{bad.Kind} ({format}) was accepted:\n{Show(text)}");
            Assert.All(parsed.Errors, e => Assert.False(string.IsNullOrWhiteSpace(e.Message)));
            var naming = parsed.Errors.Where(e => bad.Names(Relative(e.Path))).ToList();
            Assert.True(naming.Count > 0, $"{bad.Kind} ({format}): no error names '{bad.Field}': {string.Join(" | ", parsed.Errors)}");
            if (bad.Says is { } says && !(bad.TooDeep && naming.All(e => e.Path.Length == 0)))
            {
                Assert.True(naming.Any(e => e.Message.Contains(says, StringComparison.OrdinalIgnoreCase)), $"{bad.Kind} ({format}): no error on '{bad.Field}' says '{says}': {string.Join(" | ", naming)}");
            }
        }, iter: 600, threads: 1, print: t => $"{t.Item1} yaml={t.Item2}");
    }

    private static string Relative(string path) =>
        path.StartsWith("tasks[0].", StringComparison.Ordinal) ? path["tasks[0].".Length..] : path == "tasks[0]" ? "" : path;

    [Theory]
    [InlineData("\tlead")]
    [InlineData("trail\t")]
    [InlineData(" lead")]
    [InlineData("trail ")]
    [InlineData("\u00A0nbsp")]
    [InlineData("two\nlines ")]
    public void Strings_with_whitespace_at_an_edge_survive_yaml_output_verbatim(string value)
    {
        var text = Yaml(new JsonObject { ["name"] = value });

        var read = YamlInput.Read(text, []);

        Assert.Equal(value, read?.GetProperty("name").GetString());
    }

    [Fact]
    public void Property_random_bytes_and_damaged_files_never_throw()
    {
        var damaged = Gen.Select(BadInputGen.Document, Gen.Bool, Gen.Int[0, 3], Gen.Int, Gen.String[0, 20], (file, yaml, how, at, junk) =>
        {
            var text = yaml ? Yaml(file) : file.ToJsonString();
            var i = (int)((uint)at % (uint)(text.Length + 1));
            return how switch
            {
                0 => text[..i],
                1 => text[..i] + junk + text[i..],
                2 => text.Remove(Math.Min(i, text.Length - 1), 1),
                _ => text[..i] + junk[..Math.Min(1, junk.Length)] + new string('[', 30) + text[i..],
            };
        });
        var bytes = Gen.Select(Gen.Byte.Array[0, 2000], Gen.Bool, (b, utf8) => utf8 ? Encoding.UTF8.GetString(b) : Encoding.Latin1.GetString(b));
        var controls = Gen.String[Gen.Char['\0', '\u00A0'], 0, 300];

        Gen.OneOf(damaged, bytes, controls).Sample(text =>
        {
            foreach (var format in new[] { ScheduleFileFormat.Yaml, ScheduleFileFormat.Json, ScheduleFile.DetectFormat(text) })
            {
                var parsed = Parse(text, format);
                Assert.True(parsed.IsValid || parsed.Errors.Count > 0);
                Assert.All(parsed.Errors, e => Assert.False(string.IsNullOrWhiteSpace(e.Message)));
            }
        }, iter: 600, threads: 1, print: Show);
    }

    [Fact]
    public void Cycles_of_length_1_to_50_are_refused_naming_the_dependencies()
    {
        for (var length = 1; length <= 50; length++)
        {
            var file = BadInputGen.Cycle(length, seed: length);
            foreach (var (text, format) in new[] { (Yaml(file), ScheduleFileFormat.Yaml), (file.ToJsonString(), ScheduleFileFormat.Json) })
            {
                var parsed = Parse(text, format);

                Assert.False(parsed.IsValid, $"a cycle of {length} was accepted");
                var error = Assert.Single(parsed.Errors);
                if (length == 1)
                {
                    Assert.StartsWith("dependencies[", error.Path, StringComparison.Ordinal);
                    Assert.Contains("'t0' depends on itself", error.Message, StringComparison.Ordinal);
                }
                else
                {
                    Assert.Equal("dependencies", error.Path);
                    Assert.StartsWith("cycle ", error.Message, StringComparison.Ordinal);
                    Assert.All(Enumerable.Range(0, length), i => Assert.Contains($"t{i} ", error.Message + " ", StringComparison.Ordinal));
                }
            }
        }
    }

    [Theory]
    [InlineData(100)]
    [InlineData(100_000)]
    public void Deep_nesting_is_refused_without_exhausting_the_stack(int depth)
    {
        var flow = $"tasks: [{{name: a, task: t, cron: '* * * * *', args: {new string('[', depth)}{new string(']', depth)}}}]";
        var json = $$"""{"tasks": [{"name": "a", "task": "t", "cron": "* * * * *", "args": {{new string('[', depth)}}{{new string(']', depth)}}}]}""";
        var block = new StringBuilder("tasks:\n  - name: a\n    task: t\n    cron: '* * * * *'\n    kwargs:\n");
        for (var i = 0; i < Math.Min(depth, 2000); i++)
        {
            block.Append(new string(' ', 6 + (2 * i))).Append("k:\n");
        }

        block.Append(new string(' ', 6 + (2 * Math.Min(depth, 2000)))).Append("v: 1\n");

        var errors = new[] { Parse(flow, ScheduleFileFormat.Yaml), Parse(block.ToString(), ScheduleFileFormat.Yaml) }.Select(r => Assert.Single(r.Errors)).ToList();
        var jsonError = Assert.Single(Parse(json, ScheduleFileFormat.Json).Errors);

        Assert.All(errors, e => Assert.Contains("nested deeper than 64 levels", e.Message, StringComparison.Ordinal));
        Assert.StartsWith("tasks[0].args", errors[0].Path, StringComparison.Ordinal);
        Assert.StartsWith("tasks[0].kwargs.k", errors[1].Path, StringComparison.Ordinal);
        Assert.Contains("depth of 64", jsonError.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Nesting_up_to_64_levels_is_accepted()
    {
        var parsed = Parse($"tasks: [{{name: a, task: t, cron: '* * * * *', args: {new string('[', 61)}{new string(']', 61)}}}]", ScheduleFileFormat.Yaml);

        Assert.True(parsed.IsValid, string.Join("\n", parsed.Errors));
    }

    [Fact]
    public void Aliases_expand_within_a_limit_and_a_billion_laughs_is_refused_at_once()
    {
        var laughs = new StringBuilder("tasks:\n  - name: a\n    task: t\n    cron: '* * * * *'\n    kwargs:\n      l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for (var i = 1; i < 10; i++)
        {
            laughs.Append($"      l{i}: &l{i} [{string.Join(", ", Enumerable.Repeat($"*l{i - 1}", 10))}]\n");
        }

        var clock = Stopwatch.StartNew();
        var refused = Parse(laughs.ToString(), ScheduleFileFormat.Yaml);
        var elapsed = clock.Elapsed;
        var used = Parse("""
            tasks:
              - {name: a, task: t, cron: '* * * * *', kwargs: &common {region: eu, retries: [1, 2]}}
              - {name: b, task: t, cron: '* * * * *', kwargs: *common}
            """, ScheduleFileFormat.Yaml);
        var selfAlias = Parse("tasks: &a [{name: a, task: t, cron: '* * * * *', args: [*a]}]", ScheduleFileFormat.Yaml);
        var unknownAlias = Parse("tasks: [{name: a, task: t, cron: '* * * * *', args: [*nowhere]}]", ScheduleFileFormat.Yaml);

        Assert.Contains("more than 100000 values", Assert.Single(refused.Errors).Message, StringComparison.Ordinal);
        Assert.True(elapsed < TimeSpan.FromSeconds(5), $"took {elapsed}");
        Assert.True(used.IsValid, string.Join("\n", used.Errors));
        Assert.True(JsonElement.DeepEquals(used.Document!.Tasks[0].Kwargs, used.Document.Tasks[1].Kwargs));
        Assert.Contains(selfAlias.Errors, e => e.Path == "tasks[0].args[0]" || e.Message.Contains("*a", StringComparison.Ordinal));
        Assert.False(selfAlias.IsValid);
        Assert.False(unknownAlias.IsValid);
        Assert.Contains("nowhere", Assert.Single(unknownAlias.Errors).ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("tasks: [{name: a, task: t, cron: '* * * * *', description: \"a\\0b\"}]", "tasks[0].description", "NUL")]
    [InlineData("tasks: [{name: a, task: t, cron: '* * * * *', kwargs: {\"k\\0\": 1}}]", "tasks[0].kwargs", "NUL")]
    [InlineData("tasks: [{name: a, task: t, cron: '* * * * *', description: \"\\ud800\"}]", "", "surrogate")]
    [InlineData("{\"tasks\": [{\"name\": \"a\", \"task\": \"t\", \"cron\": \"* * * * *\", \"description\": \"\\ud800\"}]}", "tasks[0].description", "surrogate")]
    [InlineData("{\"tasks\": [{\"name\": \"a\", \"task\": \"t\", \"cron\": \"* * * * *\", \"kwargs\": {\"\\udc00\": 1}}]}", "", "surrogate")]
    [InlineData("tasks: [{name: a, task: t, cron: '* * * * *', description: \"\\ud835\\u0041\"}]", "", "surrogate")]
    [InlineData("{\"tasks\": [{\"name\": \"a\\u0000\", \"task\": \"t\", \"cron\": \"* * * * *\"}]}", "tasks[0].name", "NUL")]
    public void Text_the_database_cannot_store_is_refused_naming_its_path(string text, string path, string says)
    {
        var parsed = Parse(text, ScheduleFile.DetectFormat(text));

        Assert.False(parsed.IsValid);
        Assert.Contains(parsed.Errors, e => e.Path.StartsWith(path, StringComparison.Ordinal) && e.Message.Contains(says, StringComparison.Ordinal));
    }
}
