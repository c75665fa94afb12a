using System.Text;
using System.Text.Json;

namespace Djag.Worker.Tasks.BuiltIn;

/// <summary><c>djag.http</c>: one HTTP request; a status other than the expected one is failure.</summary>
internal sealed class HttpTask : IDjagTask, IDisposable
{
    public const string Name = "djag.http";

    // One client for the worker's lifetime; the run's timeout, not HttpClient's, bounds a request.
    private readonly HttpClient _client = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    public async Task RunAsync(TaskContext context)
    {
        var args = context.Bind<HttpArgs>();
        if (!Uri.TryCreate(args.Url, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            throw new TaskArgumentException($"argument 'url': expected an absolute http or https URL, got \"{args.Url}\"");
        }

        using var request = new HttpRequestMessage(new HttpMethod(args.Method.ToUpperInvariant()), url);
        request.Content = args.Body switch
        {
            null or { ValueKind: JsonValueKind.Null } => null,
            { ValueKind: JsonValueKind.String } text => new StringContent(text.GetString()!, Encoding.UTF8, "text/plain"),
            { } json => new StringContent(json.GetRawText(), Encoding.UTF8, "application/json"),
        };
        foreach (var (name, value) in args.Headers ?? new Dictionary<string, string>())
        {
            if (!request.Headers.TryAddWithoutValidation(name, value))
            {
                request.Content ??= new ByteArrayContent([]);
                request.Content.Headers.Remove(name);
                request.Content.Headers.TryAddWithoutValidation(name, value);
            }
        }

        HttpResponseMessage response;
        try
        {
            response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, context.CancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new TaskFailedException($"{request.Method} {url} failed: {ex.Message}", ex);
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            await context.Output.WriteLineAsync($"HTTP {status} {response.ReasonPhrase}");
            await CopyBodyAsync(response.Content, context.Output, context.CancellationToken);
            var expected = args.ExpectedStatus is { } code ? code == status : status is >= 200 and < 300;
            if (!expected)
            {
                throw new TaskFailedException(
                    $"{request.Method} {url} answered HTTP {status} {response.ReasonPhrase} (expected {args.ExpectedStatus?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "2xx"})");
            }
        }
    }

    public void Dispose() => _client.Dispose();

    private static async Task CopyBodyAsync(HttpContent content, TextWriter output, CancellationToken cancellationToken)
    {
        var encoding = Encoding.UTF8;
        if (content.Headers.ContentType?.CharSet is { } charset)
        {
            try
            {
                encoding = Encoding.GetEncoding(charset.Trim('"'));
            }
            catch (ArgumentException)
            {
                // An unknown charset still shows as UTF-8 rather than failing a request that succeeded.
            }
        }

        using var reader = new StreamReader(await content.ReadAsStreamAsync(cancellationToken), encoding);
        var buffer = new char[4096];
        int read;
        while ((read = await reader.ReadAsync(buffer, cancellationToken)) > 0)
        {
            await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
        }
    }
}

/// <param name="Url">absolute http or https URL</param>
/// <param name="Method">GET, POST, ...</param>
/// <param name="Headers">request headers (Content-Type included)</param>
/// <param name="Body">a string is sent as text/plain, anything else as JSON</param>
/// <param name="ExpectedStatus">the status that counts as success; default: any 2xx</param>
internal sealed record HttpArgs(
    string Url,
    string Method = "GET",
    IReadOnlyDictionary<string, string>? Headers = null,
    JsonElement? Body = null,
    int? ExpectedStatus = null);
