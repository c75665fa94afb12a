using System.Net;
using System.Text;

namespace Djag.Cli.Tests.Remote;

internal sealed record SentRequest(string Method, string Url, string? Authorization, string? ContentType, string? Body);

/// <summary>An HTTP stack that records each request and answers with the next canned response.</summary>
internal sealed class CannedHandler(Func<HttpRequestMessage, HttpResponseMessage> answer) : HttpMessageHandler
{
    public List<SentRequest> Requests { get; } = [];

    public static CannedHandler Json(HttpStatusCode status, string json, string mediaType = "application/json") =>
        new(_ => new HttpResponseMessage(status) { Content = new StringContent(json, Encoding.UTF8, mediaType) });

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
        Requests.Add(new SentRequest(
            request.Method.Method, request.RequestUri!.AbsoluteUri, request.Headers.Authorization?.ToString(),
            request.Content?.Headers.ContentType?.MediaType, body));
        return answer(request);
    }
}
