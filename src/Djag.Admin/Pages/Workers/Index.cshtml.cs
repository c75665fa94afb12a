using Djag.Admin.Hosting;
using Djag.Contracts;
using Djag.Hosting.Nats;
using Microsoft.AspNetCore.Mvc.RazorPages;
using NATS.Client.Core;
using NATS.Client.KeyValueStore;

namespace Djag.Admin.Pages.Workers;

/// <summary>The live worker fleet from the heartbeat bucket.</summary>
internal sealed partial class IndexModel(INatsKVContext kv, ILogger<IndexModel> logger) : PageModel
{
    public IReadOnlyList<WorkerHeartbeat> Workers { get; private set; } = [];

    /// <summary>Set when NATS could not be asked; the page says so instead of failing.</summary>
    public string? Problem { get; private set; }

    public async Task OnGetAsync(CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(20)); // generous: a slow answer is still an answer
        try
        {
            Workers = await WorkerDirectory.ListAsync(kv, timeout.Token);
        }
        catch (Exception ex) when (ex is NatsException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            LogNatsUnavailable(logger, ex);
            Problem = ex is NatsKVException ? "The heartbeat bucket does not exist yet: no beat or worker has started." : "NATS cannot be reached; no workers can be listed.";
        }
    }

    [LoggerMessage(EventId = AdminEventIds.WorkersUnavailable, Level = LogLevel.Warning, Message = "Could not list the workers from NATS")]
    private static partial void LogNatsUnavailable(ILogger logger, Exception exception);
}
