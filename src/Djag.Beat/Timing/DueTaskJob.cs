using NodaTime;
using Quartz;

namespace Djag.Beat.Timing;

/// <summary>
/// The one Quartz job of a task: reads the task name and fire times and hands them to
/// <see cref="IDueTaskHandler"/>. All scheduling rules live behind the handler.
/// </summary>
/// <remarks>
/// Fires of one task may overlap (the handler serializes a task's evaluations under its row lock), which spares
/// the job store the blocking and unblocking of the task's trigger around each fire. A failing handler is logged and the fire is over: rethrowing would only make Quartz refire or
/// retry, and the handler catches up from the task's pointer on its next fire anyway.
/// A fire ends only when the handler has decided the event: the job requests recovery, so when a beat dies inside a
/// fire (Quartz has already moved the trigger to the next event), another beat's cluster manager finds the fire
/// unfinished in <c>qrtz_fired_triggers</c> and fires the job again at once, rather than at the task's next event.
/// </remarks>
internal sealed partial class DueTaskJob(IDueTaskHandler handler, ILogger<DueTaskJob> logger) : IJob
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var taskName = context.JobDetail.Key.Name;
        var actual = Instant.FromDateTimeOffset(context.FireTimeUtc);
        var scheduled = context.ScheduledFireTimeUtc is { } s ? Instant.FromDateTimeOffset(s) : actual;
        try
        {
            await handler.OnDueAsync(taskName, scheduled, actual, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            LogHandlerCancelled(logger, taskName, scheduled);
        }
#pragma warning disable CA1031 // Any handler failure ends this fire; see remarks.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogHandlerFailed(logger, ex, taskName, scheduled);
        }
    }
}
