using Djag.Worker.Hosting;

namespace Djag.Worker.Reports;

internal sealed partial class ReportStore
{
    [LoggerMessage(EventId = WorkerEventIds.ReportWriteFailed, Level = LogLevel.Warning,
        Message = "Could not store the {What} report of run {RunId} ({Error}); retrying until NATS takes it")]
    private static partial void LogWriteFailed(ILogger logger, string what, long runId, string error);

    [LoggerMessage(EventId = WorkerEventIds.ReportStoredAfterRetry, Level = LogLevel.Information,
        Message = "Stored the {What} report of run {RunId} at try {Attempt}")]
    private static partial void LogStoredAfterRetry(ILogger logger, string what, long runId, int attempt);
}
