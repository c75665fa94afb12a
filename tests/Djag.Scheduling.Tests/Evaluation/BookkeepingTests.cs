using NodaTime;
using static Djag.Scheduling.Tests.TestSchedules;

namespace Djag.Scheduling.Tests.Evaluation;

public sealed class BookkeepingTests
{
    [Fact]
    public void Dispatch_counts_up_moves_the_pointer_and_records_the_start()
    {
        var state = TaskBookkeeping.OnDispatch(TaskState.Empty, At(12, 1), At(12, 1, 5), 7);

        Assert.Equal(new TaskState(At(12, 1), null, 1, 7, null, null, At(12, 1, 5)), state);
    }

    [Fact]
    public void Completion_counts_down_and_keeps_the_newest_last_cron()
    {
        var state = TaskState.Empty with { Running = 2, LastCron = At(12, 5), LastSuccessMark = 3 };

        var failed = TaskBookkeeping.OnCompletion(state, At(12, 4), At(12, 6), 9, RunOutcome.Failure);
        Assert.Equal(1, failed.Running);
        Assert.Equal(At(12, 5), failed.LastCron);
        Assert.Equal(3, failed.LastSuccessMark);
        Assert.Equal(9, failed.LastCompletionMark);
        Assert.Equal(At(12, 6), failed.LastCronEnd);
        Assert.Equal(1, failed.TotalRunCount);

        var succeeded = TaskBookkeeping.OnCompletion(failed, At(12, 6), At(12, 7), 10, RunOutcome.Success);
        Assert.Equal(0, succeeded.Running);
        Assert.Equal(At(12, 6), succeeded.LastCron);
        Assert.Equal(10, succeeded.LastSuccessMark);
        Assert.Equal(2, succeeded.TotalRunCount);

        Assert.Equal(0, TaskBookkeeping.OnCompletion(succeeded, At(12, 6), At(12, 7), 11, RunOutcome.Success).Running);
    }

    [Fact]
    public void A_manual_run_completes_like_any_run_but_leaves_last_cron_and_so_the_pointer_alone()
    {
        var state = TaskState.Empty with { Running = 1, LastCron = At(12, 0) };

        var done = TaskBookkeeping.OnCompletion(state, cronEvent: null, At(12, 30), 4, RunOutcome.Success);

        Assert.Equal((0, At(12, 0), 4L, 1L), (done.Running, done.LastCron!.Value, done.LastSuccessMark!.Value, done.TotalRunCount));
    }

    [Fact]
    public void Misfires_never_move_the_pointer_back()
    {
        var state = TaskState.Empty with { CronPointer = At(12, 9) };
        var decision = new TaskDecision.NotDue(At(12, 10), [At(12, 1)], [], At(12, 1));

        Assert.Equal(At(12, 9), TaskBookkeeping.OnMisfires(state, decision).CronPointer);
    }
}

public sealed class RetryPolicyTests
{
    [Fact]
    public void Retries_with_exponential_backoff_up_to_the_limit()
    {
        var policy = new RetryPolicy(MaxRetries: 3, Backoff: Duration.FromSeconds(10), BackoffMultiplier: 2, MaxBackoff: Duration.FromSeconds(30));

        Assert.Equal(new RetryDecision(true, At(12, 0, 10), 2), policy.Decide(1, At(12, 0)));
        Assert.Equal(new RetryDecision(true, At(12, 0, 20), 3), policy.Decide(2, At(12, 0)));
        Assert.Equal(new RetryDecision(true, At(12, 0, 30), 4), policy.Decide(3, At(12, 0)));
        Assert.Equal(new RetryDecision(false, null, null), policy.Decide(4, At(12, 0)));
    }

    [Fact]
    public void No_retries_means_the_first_failure_is_final()
    {
        Assert.False(new RetryPolicy(0, Duration.FromSeconds(5)).Decide(1, At(12, 0)).Retry);
        Assert.Throws<ArgumentOutOfRangeException>(() => new RetryPolicy(1, Duration.Zero).Decide(0, At(12, 0)));
    }
}
