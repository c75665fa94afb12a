using NodaTime;

namespace Djag.Beat.Timing;

internal sealed partial class TaskTimer
{
    [LoggerMessage(EventId = TimingEventIds.TaskScheduled, Level = LogLevel.Information, Message = "Task {TaskName} scheduled on {Schedule} after {StartAfter}; next fire {NextFireTime}")]
    private static partial void LogTaskScheduled(ILogger logger, string taskName, string schedule, Instant startAfter, Instant nextFireTime);

    [LoggerMessage(EventId = TimingEventIds.TaskHasNoFutureEvent, Level = LogLevel.Warning, Message = "Task {TaskName} on {Schedule} has no event after {StartAfter}; its trigger will not fire")]
    private static partial void LogTaskHasNoFutureEvent(ILogger logger, string taskName, string schedule, Instant startAfter);

    [LoggerMessage(EventId = TimingEventIds.TaskUnchanged, Level = LogLevel.Debug, Message = "Task {TaskName} unchanged; its trigger keeps its next fire time")]
    private static partial void LogTaskUnchanged(ILogger logger, string taskName);

    [LoggerMessage(EventId = TimingEventIds.TaskUnscheduled, Level = LogLevel.Information, Message = "Task {TaskName} unscheduled")]
    private static partial void LogTaskUnscheduled(ILogger logger, string taskName);

    [LoggerMessage(EventId = TimingEventIds.TasksSynced, Level = LogLevel.Information, Message = "Timing synced: {Enabled} enabled tasks, {Removed} removed")]
    private static partial void LogTasksSynced(ILogger logger, int enabled, int removed);
}
