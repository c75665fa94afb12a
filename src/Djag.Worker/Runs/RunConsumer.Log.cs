using Djag.Worker.Hosting;

namespace Djag.Worker.Runs;

internal sealed partial class RunConsumer
{
    [LoggerMessage(EventId = WorkerEventIds.Drained, Level = LogLevel.Information, Message = "Every run in flight finished before the shutdown timeout")]
    private static partial void LogDrained(ILogger logger);

    [LoggerMessage(EventId = WorkerEventIds.GivingBackRuns, Level = LogLevel.Warning, Message = "Shutdown timeout reached with {Count} runs in flight; cancelling them and giving them back to the stream")]
    private static partial void LogGivingBack(ILogger logger, int count);

    [LoggerMessage(EventId = WorkerEventIds.RunsLeftBehind, Level = LogLevel.Error, Message = "{Count} runs did not stop in time; JetStream redelivers them after the ack wait and the beat declares them lost")]
    private static partial void LogRunsLeftBehind(ILogger logger, int count);

    [LoggerMessage(EventId = WorkerEventIds.FetchFailed, Level = LogLevel.Warning, Message = "Cannot take runs from NATS ({Error}); retrying")]
    private static partial void LogFetchFailed(ILogger logger, string error);

    [LoggerMessage(EventId = WorkerEventIds.FetchRestored, Level = LogLevel.Information, Message = "Taking runs from NATS again")]
    private static partial void LogFetchRestored(ILogger logger);
}
