using System.Text.Json;
using Djag.Worker;
using Djag.Worker.Runs;

namespace Djag.IntegrationTests.Worker;

/// <summary>Binding args and kwargs to a task's argument type; no servers involved.</summary>
public sealed class TaskArgumentsTests
{
    [Fact]
    public void Kwargs_bind_by_snake_case_name_and_defaults_fill_the_rest()
    {
        var bound = Bind<Download>("[]", """{"url": "https://example.org", "expected_status": 201}""");

        Assert.Equal(new Download("https://example.org", 201, Retries: 3), bound);
    }

    [Fact]
    public void Positional_args_fill_the_constructor_parameters_in_order()
    {
        Assert.Equal(new Download("https://example.org", 204, 1), Bind<Download>("""["https://example.org", 204]""", """{"retries": 1}"""));
    }

    [Fact]
    public void Every_naming_problem_is_reported_at_once()
    {
        var error = Assert.Throws<TaskArgumentException>(() => Bind<Download>("""["https://a", 200, 1, 2]""", "{}"));
        Assert.Equal("the task takes at most 3 positional arguments (url, expected_status, retries), got 4", error.Message);

        error = Assert.Throws<TaskArgumentException>(() => Bind<Download>("""["https://a"]""", """{"url": "https://b", "retry": 2}"""));
        Assert.Equal(
            "argument 'url' is given both by position and by name; argument 'retry' is not known (known: url, expected_status, retries)",
            error.Message);

        error = Assert.Throws<TaskArgumentException>(() => Bind<Download>("[]", "{}"));
        Assert.Equal("argument 'url' is required but missing", error.Message);
    }

    [Theory]
    [InlineData("""{"url": 5}""", "argument 'url': expected a string, got 5")]
    [InlineData("""{"url": null}""", "argument 'url': expected a string, got null")]
    [InlineData("""{"url": "u", "expected_status": "ok"}""", "argument 'expected_status': expected an integer, got \"ok\"")]
    [InlineData("""{"url": "u", "expected_status": 2.5}""", "argument 'expected_status': expected an integer, got 2.5")]
    [InlineData("""{"url": "u", "tags": ["a", 1]}""", "argument 'tags[1]': expected a string, got 1")]
    [InlineData("""{"url": "u", "tags": "a"}""", "argument 'tags': expected an array, got \"a\"")]
    [InlineData("""{"url": "u", "when": "soon"}""", "argument 'when': expected an ISO 8601 date-time string or null, got \"soon\"")]
    public void A_value_of_the_wrong_type_names_the_argument_what_was_expected_and_what_came(string kwargs, string expected)
    {
        var error = Assert.Throws<TaskArgumentException>(() => Bind<Tagged>("[]", kwargs));

        Assert.Equal(expected, error.Message);
    }

    [Fact]
    public void Output_tail_keeps_the_last_4_KiB()
    {
        using var tail = new OutputTail();
        for (var i = 0; i < 2000; i++)
        {
            tail.WriteLine($"line {i}");
        }

        var text = tail.ToString();
        Assert.Equal(OutputTail.Capacity, text.Length);
        Assert.StartsWith("…", text, StringComparison.Ordinal);
        Assert.EndsWith("line 1998\nline 1999\n", text, StringComparison.Ordinal);

        using var small = new OutputTail();
        small.Write("short");
        Assert.Equal("short", small.ToString());
    }

    private static T Bind<T>(string args, string kwargs) =>
        TaskArguments.Bind<T>(JsonDocument.Parse(args).RootElement, JsonDocument.Parse(kwargs).RootElement);

    internal sealed record Download(string Url, int ExpectedStatus = 200, int Retries = 3);

    internal sealed record Tagged(string Url, int ExpectedStatus = 200, IReadOnlyList<string>? Tags = null, DateTimeOffset? When = null);
}
