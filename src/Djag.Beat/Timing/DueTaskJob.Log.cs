using NodaTime;

namespace Djag.Beat.Timing;

internal sealed partial class DueTaskJob
{
    [LoggerMessage(EventId = TimingEventIds.HandlerFailed, Level = LogLevel.Error, Message = "Handling the due event {ScheduledFireTime} of task {TaskName} failed")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception, string taskName, Instant scheduledFireTime);

    [LoggerMessage(EventId = TimingEventIds.HandlerCancelled, Level = LogLevel.Information, Message = "Handling the due event {ScheduledFireTime} of task {TaskName} was cancelled by shutdown")]
    private static partial void LogHandlerCancelled(ILogger logger, string taskName, Instant scheduledFireTime);
}
