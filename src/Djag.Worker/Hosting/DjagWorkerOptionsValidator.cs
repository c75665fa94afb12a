using Microsoft.Extensions.Options;

namespace Djag.Worker.Hosting;

/// <summary>Reports every bad setting at once, each with where it comes from and what would be right.</summary>
internal sealed class DjagWorkerOptionsValidator : IValidateOptions<DjagWorkerOptions>
{
    private static readonly string[] NatsSchemes = ["nats", "tls", "ws", "wss"];

    public ValidateOptionsResult Validate(string? name, DjagWorkerOptions options)
    {
        var failures = new List<string>();

        var urls = (options.NatsUrl ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (urls.Length == 0)
        {
            failures.Add($"NatsUrl (DJAG_NATS_URL) is empty; give the NATS server, e.g. {DjagWorkerOptions.DefaultNatsUrl}");
        }

        foreach (var url in urls)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || !NatsSchemes.Contains(uri.Scheme) || string.IsNullOrEmpty(uri.Host))
            {
                failures.Add($"NatsUrl (DJAG_NATS_URL): '{url}' is not a NATS server URL; expected e.g. {DjagWorkerOptions.DefaultNatsUrl}");
            }
        }

        var queues = options.QueueList;
        if (queues.Count == 0)
        {
            failures.Add("Queues (--queues, DJAG_QUEUES) is empty; give the queues to take runs from, e.g. --queues default,reports");
        }

        foreach (var queue in queues)
        {
            if (!DjagWorkerOptions.QueueName().IsMatch(queue))
            {
                failures.Add($"Queues (--queues, DJAG_QUEUES): '{queue}' is not a queue name; a name is 1-64 of A-Z a-z 0-9 _ -");
            }
        }

        foreach (var duplicate in queues.GroupBy(q => q, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            failures.Add($"Queues (--queues, DJAG_QUEUES): '{duplicate.Key}' is listed more than once");
        }

        if (options.Concurrency is < 1 or > DjagWorkerOptions.MaxConcurrency)
        {
            failures.Add($"Concurrency (DJAG_CONCURRENCY): {options.Concurrency} is out of range: 1-{DjagWorkerOptions.MaxConcurrency}");
        }

        if (!string.IsNullOrWhiteSpace(options.WorkerId) && !DjagWorkerOptions.WorkerIdPattern().IsMatch(options.WorkerId))
        {
            failures.Add($"WorkerId (DJAG_WORKER_ID): '{options.WorkerId}' is not a worker id; use up to 128 of A-Z a-z 0-9 _ = - and '.' inside");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
