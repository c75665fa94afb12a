using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;

namespace Djag.IntegrationTests.Worker;

/// <summary>
/// A tiny HTTP server on 127.0.0.1 that counts the requests per path: <c>/hit/ID</c> answers 200,
/// <c>/status/CODE</c> answers CODE, <c>/hold/ID</c> answers only when released.
/// </summary>
internal sealed class TestHttpEndpoint : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentDictionary<string, int> _hits = new();
    private readonly ConcurrentDictionary<string, string> _bodies = new();
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _serving;

    public TestHttpEndpoint()
    {
        Port = Loopback.FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _serving = ServeAsync();
    }

    public int Port { get; }

    public string Url(string path) => $"http://127.0.0.1:{Port}{path}";

    public int Hits(string path) => _hits.GetValueOrDefault(path);

    public IReadOnlyDictionary<string, int> AllHits => _hits;

    public string? Body(string path) => _bodies.GetValueOrDefault(path);

    public void ReleaseHeld() => _release.TrySetResult();

    public async ValueTask DisposeAsync()
    {
        ReleaseHeld();
        _listener.Stop();
        await _serving;
        _listener.Close();
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(() => AnswerAsync(context));
        }
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        var path = context.Request.Url!.AbsolutePath;
        _hits.AddOrUpdate(path, 1, (_, n) => n + 1);
        using (var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8))
        {
            _bodies[path] = $"{context.Request.HttpMethod} {context.Request.ContentType} {await reader.ReadToEndAsync()}";
        }

        var status = 200;
        if (path.StartsWith("/status/", StringComparison.Ordinal))
        {
            status = int.Parse(path["/status/".Length..], CultureInfo.InvariantCulture);
        }
        else if (path.StartsWith("/hold/", StringComparison.Ordinal))
        {
            await _release.Task;
        }

        try
        {
            context.Response.StatusCode = status;
            var body = Encoding.UTF8.GetBytes($"answer to {path}");
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.OutputStream.WriteAsync(body);
            context.Response.Close();
        }
        catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
        {
            // The client is gone (killed worker, timed-out run).
        }
    }
}
