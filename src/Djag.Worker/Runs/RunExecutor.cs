using Djag.Contracts;
using Djag.Worker.Reports;
using Djag.Worker.Tasks;
using Djag.Worker.Telemetry;
using Microsoft.Extensions.Options;
using NATS.Client.JetStream;

namespace Djag.Worker.Runs;

/// <summary>
/// Executes one delivered run by the reporting protocol: claim it (create its report key), run the task,
/// store the finished report, and only then acknowledge the message. A run that is someone else's is not
/// executed; a run given back at shutdown is released (key deleted) and returned to the stream (NAK).
/// </summary>
internal sealed partial class RunExecutor(
    TaskRegistry registry,
    ReportStore reports,
    RunningRuns running,
    IServiceScopeFactory scopes,
    WorkerMetrics metrics,
    TimeProvider time,
    IOptions<DjagWorkerOptions> options,
    ILogger<RunExecutor> logger)
{
    /// <summary>How long a cancelled task gets to stop before its run is reported anyway.</summary>
    private static readonly TimeSpan CancellationGrace = TimeSpan.FromSeconds(3);

    /// <summary>How long releasing a run may take once the worker gives it back.</summary>
    private static readonly TimeSpan GiveBackTimeout = TimeSpan.FromSeconds(5);

    private readonly string _workerId = options.Value.EffectiveWorkerId;
    private readonly TimeSpan _ackWait = options.Value.AckWait;

    /// <param name="message">the delivered run</param>
    /// <param name="giveBack">fires when the worker stops and gives back what is still running</param>
    public async Task ExecuteAsync(INatsJSMsg<RunMessage> message, CancellationToken giveBack)
    {
        if (message.Error is not null || message.Data is not { } run)
        {
            // Redelivering it would fail the same way forever.
            LogUnreadableMessage(logger, message.Subject, message.Error?.Message ?? "no data");
            await SettleAsync(message, "terminate", m => m.AckTerminateAsync());
            return;
        }

        if (!running.TryAdd(run.RunId))
        {
            // JetStream redelivered a run still executing here; the execution in progress acknowledges it.
            LogRunAlreadyHere(logger, run.RunId);
            return;
        }

        using var keepAlive = new CancellationTokenSource();
        var keepingAlive = KeepAliveAsync(message, keepAlive.Token);
        try
        {
            await ExecuteAsync(message, run, giveBack);
        }
        finally
        {
            await keepAlive.CancelAsync();
            await keepingAlive;
            running.Remove(run.RunId);
        }
    }

    private async Task ExecuteAsync(INatsJSMsg<RunMessage> message, RunMessage run, CancellationToken giveBack)
    {
        using var activity = DjagWorkerTelemetry.StartRun(message.Headers, run, message.Subject, _workerId);
        var started = new RunReport
        {
            RunId = run.RunId,
            State = RunReportStates.Started,
            Worker = _workerId,
            StartedAt = time.GetUtcNow(),
        };
        Claim claim;
        try
        {
            claim = await reports.ClaimAsync(started, giveBack);
        }
        catch (OperationCanceledException) when (giveBack.IsCancellationRequested)
        {
            await SettleAsync(message, "NAK", m => m.NakAsync());
            return;
        }

        if (!claim.IsOurs)
        {
            await SettleDuplicateAsync(message, run, claim.Existing);
            return;
        }

        LogRunStarted(logger, run.RunId, run.Task, run.Name);
        var output = new OutputTail();
        var execution = await RunTaskAsync(run, output, giveBack);
        metrics.Executed(activity, run, execution.Outcome, execution.Error, time.GetUtcNow() - started.StartedAt);
        if (execution.Outcome is null)
        {
            await GiveBackAsync(message, run);
        }
        else
        {
            var finished = started with
            {
                State = RunReportStates.Finished,
                FinishedAt = time.GetUtcNow(),
                Outcome = execution.Outcome,
                Error = execution.Error,
                OutputTail = output.ToString(),
            };
            try
            {
                await reports.FinishAsync(finished, giveBack);
                LogRunFinished(logger, run.RunId, run.Task, execution.Outcome, (finished.FinishedAt - started.StartedAt).Value.TotalSeconds, execution.Error ?? "");
                await SettleAsync(message, "ack", m => m.AckAsync());
            }
            catch (OperationCanceledException) when (giveBack.IsCancellationRequested)
            {
                // Unacked, the message comes back to a worker that finds our started report and leaves it to the beat.
                LogReportNotStored(logger, run.RunId);
            }
        }

        // A task that ignored its cancellation still holds its slot (and its services) until it really ends.
        await execution.Ended;
    }

    /// <summary>The key exists: a duplicate of a finished run is acknowledged, a run started by another worker is terminated.</summary>
    private async Task SettleDuplicateAsync(INatsJSMsg<RunMessage> message, RunMessage run, RunReport existing)
    {
        if (existing.State == RunReportStates.Finished)
        {
            LogDuplicateRun(logger, run.RunId, existing.Worker);
            await SettleAsync(message, "ack", m => m.AckAsync());
        }
        else
        {
            // Its worker still runs it, or died and the beat declares it lost and retries it as a new attempt.
            LogRunOwnedByOther(logger, run.RunId, existing.Worker);
            await SettleAsync(message, "terminate", m => m.AckTerminateAsync());
        }
    }

    private async Task GiveBackAsync(INatsJSMsg<RunMessage> message, RunMessage run)
    {
        using var timeout = new CancellationTokenSource(GiveBackTimeout, time);
        try
        {
            await reports.ReleaseAsync(run.RunId, timeout.Token);
            await SettleAsync(message, "NAK", m => m.NakAsync(cancellationToken: timeout.Token));
            LogGaveBackRun(logger, run.RunId, run.Task);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            LogReportNotStored(logger, run.RunId);
        }
    }

    private async Task<Execution> RunTaskAsync(RunMessage run, OutputTail output, CancellationToken giveBack)
    {
        if (!registry.TryGet(run.Task, out var registration))
        {
            return Execution.Failed(registry.UnknownTaskError(run.Task));
        }

        using var timeout = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
        if (run.TimeoutSeconds is { } seconds && seconds > 0)
        {
            timeout.CancelAfter(TimeSpan.FromSeconds(seconds));
        }

        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, giveBack);
        var scope = scopes.CreateAsyncScope();
        var context = new TaskContext(run, output, scope.ServiceProvider, cancel.Token);
        // On the thread pool: a task that blocks before its first await must not hold up the worker's loops.
        var task = Task.Run(() => registration.Run(scope.ServiceProvider, context), CancellationToken.None);

        await task.WaitAsync(cancel.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (!task.IsCompleted)
        {
            await task.WaitAsync(CancellationGrace, time, CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (!task.IsCompleted)
            {
                LogTaskIgnoredCancellation(logger, run.RunId, run.Task, CancellationGrace.TotalSeconds);
            }
        }

        var ended = EndAsync(task, scope);
        if (task.IsCompletedSuccessfully)
        {
            return Execution.Succeeded(ended);
        }

        if (timeout.IsCancellationRequested)
        {
            return Execution.Failed($"timed out after {run.TimeoutSeconds} s", ended);
        }

        if (giveBack.IsCancellationRequested)
        {
            return Execution.GivenBack(ended);
        }

        var exception = task.Exception?.InnerException;
        switch (exception)
        {
            case TaskFailedException failed:
                return Execution.Failed(failed.Message, ended);
            case null:
                return Execution.Failed("the task was cancelled", ended);
            default:
                await output.WriteLineAsync();
                await output.WriteLineAsync(exception.ToString());
                return Execution.Failed($"{exception.GetType().FullName}: {exception.Message}", ended);
        }
    }

    private static async Task EndAsync(Task task, AsyncServiceScope scope)
    {
        await task.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await scope.DisposeAsync();
    }

    /// <summary>Tells JetStream the run is alive, so it is not handed to another worker while it runs.</summary>
    private async Task KeepAliveAsync(INatsJSMsg<RunMessage> message, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_ackWait / 3, time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                try
                {
                    await message.AckProgressAsync(cancellationToken: cancellationToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The next tick tries again; NATS.Net is reconnecting meanwhile.
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The run ended.
        }
    }

    private async Task SettleAsync(INatsJSMsg<RunMessage> message, string action, Func<INatsJSMsg<RunMessage>, ValueTask> settle)
    {
        try
        {
            await settle(message);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // JetStream redelivers the message after the ack wait; the report key makes that harmless.
            LogSettleFailed(logger, action, message.Subject, ex.Message);
        }
    }

    /// <summary>How a task ended: <see cref="Outcome"/> null when it was given back. <see cref="Ended"/> completes when its code really stopped.</summary>
    private sealed record Execution(string? Outcome, string? Error, Task Ended)
    {
        public static Execution Succeeded(Task ended) => new(RunReportOutcomes.Success, null, ended);

        public static Execution Failed(string error, Task? ended = null) => new(RunReportOutcomes.Failure, error, ended ?? Task.CompletedTask);

        public static Execution GivenBack(Task ended) => new(null, null, ended);
    }
}
