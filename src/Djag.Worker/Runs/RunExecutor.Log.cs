using Djag.Worker.Hosting;

namespace Djag.Worker.Runs;

internal sealed partial class RunExecutor
{
    [LoggerMessage(EventId = WorkerEventIds.RunStarted, Level = LogLevel.Debug, Message = "Run {RunId} of {Task} ({Name}) started")]
    private static partial void LogRunStarted(ILogger logger, long runId, string task, string name);

    [LoggerMessage(EventId = WorkerEventIds.RunFinished, Level = LogLevel.Information, Message = "Run {RunId} of {Task} finished: {Outcome} after {Seconds:0.###} s {Error}")]
    private static partial void LogRunFinished(ILogger logger, long runId, string task, string outcome, double seconds, string error);

    [LoggerMessage(EventId = WorkerEventIds.DuplicateRun, Level = LogLevel.Information, Message = "Run {RunId} was delivered again after {Worker} finished it; acknowledged without running it")]
    private static partial void LogDuplicateRun(ILogger logger, long runId, string worker);

    [LoggerMessage(EventId = WorkerEventIds.RunOwnedByOther, Level = LogLevel.Warning, Message = "Run {RunId} was delivered again but {Worker} started it; terminated without running it (the beat decides whether it is lost)")]
    private static partial void LogRunOwnedByOther(ILogger logger, long runId, string worker);

    [LoggerMessage(EventId = WorkerEventIds.UnreadableMessage, Level = LogLevel.Error, Message = "Message on {Subject} is not a run ({Error}); terminated")]
    private static partial void LogUnreadableMessage(ILogger logger, string subject, string error);

    [LoggerMessage(EventId = WorkerEventIds.RunAlreadyHere, Level = LogLevel.Warning, Message = "Run {RunId} was redelivered while it still runs here; left to the running execution")]
    private static partial void LogRunAlreadyHere(ILogger logger, long runId);

    [LoggerMessage(EventId = WorkerEventIds.TaskIgnoredCancellation, Level = LogLevel.Warning, Message = "Run {RunId} of {Task} did not stop within {Seconds} s of being cancelled; reported anyway, its slot stays taken until it returns")]
    private static partial void LogTaskIgnoredCancellation(ILogger logger, long runId, string task, double seconds);

    [LoggerMessage(EventId = WorkerEventIds.GaveBackRun, Level = LogLevel.Information, Message = "Gave back run {RunId} of {Task}: report deleted, message returned to the stream")]
    private static partial void LogGaveBackRun(ILogger logger, long runId, string task);

    [LoggerMessage(EventId = WorkerEventIds.ReportNotStored, Level = LogLevel.Error, Message = "Run {RunId}: NATS did not take its report before the worker stopped; the beat will declare it lost")]
    private static partial void LogReportNotStored(ILogger logger, long runId);

    [LoggerMessage(EventId = WorkerEventIds.AckFailed, Level = LogLevel.Warning, Message = "Could not {Action} the message on {Subject} ({Error}); JetStream will redeliver it")]
    private static partial void LogSettleFailed(ILogger logger, string action, string subject, string error);
}
