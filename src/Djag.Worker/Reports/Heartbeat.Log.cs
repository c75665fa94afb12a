using Djag.Worker.Hosting;

namespace Djag.Worker.Reports;

internal sealed partial class Heartbeat
{
    [LoggerMessage(EventId = WorkerEventIds.HeartbeatFailed, Level = LogLevel.Warning, Message = "Cannot heartbeat ({Error}); the beat declares this worker gone if it lasts past the TTL")]
    private static partial void LogHeartbeatFailed(ILogger logger, string error);

    [LoggerMessage(EventId = WorkerEventIds.HeartbeatRestored, Level = LogLevel.Information, Message = "Heartbeating again")]
    private static partial void LogHeartbeatRestored(ILogger logger);
}
