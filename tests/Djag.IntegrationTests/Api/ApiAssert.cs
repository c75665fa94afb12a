using System.Net;
using System.Text.Json;
using Djag.Persistence.Operations;
using Djag.Scheduling;

namespace Djag.IntegrationTests.Api;

/// <summary>An RFC 7807 answer of the API, with its extensions.</summary>
internal sealed record Problem(int Status, string? Title, string? Detail, string Kind, IReadOnlyList<FieldError> Errors)
{
    public IEnumerable<string> Fields => Errors.Select(e => e.Field);
}

internal static class ApiAssert
{
    /// <summary>The body as <typeparamref name="T"/> after checking the status; the message shows the body otherwise.</summary>
    public static async Task<T> ReadAsync<T>(HttpResponseMessage response, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            Assert.True(response.StatusCode == expected, $"expected {(int)expected}, got {(int)response.StatusCode}: {body}");
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            return JsonSerializer.Deserialize<T>(body, OperationsJson.Options)
                ?? throw new InvalidOperationException($"null body: {body}");
        }
    }

    public static async Task<string> TextAsync(HttpResponseMessage response, string mediaType)
    {
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"expected 200, got {(int)response.StatusCode}: {body}");
            Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
            return body;
        }
    }

    public static async Task NoContentAsync(HttpResponseMessage response)
    {
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            Assert.True(response.StatusCode == HttpStatusCode.NoContent, $"expected 204, got {(int)response.StatusCode}: {body}");
        }
    }

    /// <summary>Checks the problem's status (also in the body), media type and kind; returns it for the field checks.</summary>
    public static async Task<Problem> ProblemAsync(HttpResponseMessage response, HttpStatusCode status, string kind)
    {
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = JsonSerializer.Deserialize<Problem>(body, OperationsJson.Options)
                ?? throw new InvalidOperationException($"null body: {body}");
            Assert.Equal((int)status, problem.Status);
            Assert.Equal(kind, problem.Kind);
            Assert.False(string.IsNullOrEmpty(problem.Title), body);
            Assert.False(string.IsNullOrEmpty(problem.Detail), body);
            return problem;
        }
    }

    /// <summary>The one error of <paramref name="problem"/> on <paramref name="field"/>; its message must contain <paramref name="says"/>.</summary>
    public static void Names(Problem problem, string field, string says)
    {
        var error = Assert.Single(problem.Errors, e => e.Field == field);
        Assert.Contains(says, error.Message, StringComparison.Ordinal);
    }
}
