namespace Djag.Api;

/// <summary>Settings of the HTTP API, set through <see cref="DjagApi.AddDjagApi"/>.</summary>
public sealed class DjagApiOptions
{
    /// <summary>The largest request body an API endpoint reads (a schedule file is the largest expected); larger ones get 413.</summary>
    public long MaxRequestBodySize { get; set; } = 1024 * 1024;
}
