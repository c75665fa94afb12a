using NodaTime;
using NodaTime.Testing;
using static Djag.Scheduling.Tests.TestSchedules;

namespace Djag.Scheduling.Tests.Evaluation;

/// <summary>The contract the beat's trigger relies on: sleeping until NextEvaluationAt misses nothing.</summary>
public sealed class BeatLoopTests
{
    [Fact]
    public void Sleeping_until_the_next_evaluation_time_dispatches_every_event_once()
    {
        // Every 2 minutes from 12:00. The beat wakes at each NextEvaluationAt, except that it is down
        // from 12:03 to 12:09:20: the 12:04, 12:06 and 12:08 events are then caught up at once (run_all).
        var task = Task("t", cron: "*/2 * * * *");
        var clock = new FakeClock(T0);
        var state = TaskState.Empty;
        var dispatched = new List<(Instant At, Instant Cron)>();
        long mark = 0;

        while (clock.GetCurrentInstant() < At(12, 15))
        {
            var now = clock.GetCurrentInstant();
            var decision = Evaluate(task, state, now);
            state = TaskBookkeeping.Apply(state, decision, now, ++mark);
            if (decision is TaskDecision.Dispatch d)
            {
                dispatched.Add((now, d.Event));
                state = TaskBookkeeping.OnCompletion(state, d.Event, now, ++mark, RunOutcome.Success);
            }

            var wake = decision.NextEvaluationAt!.Value;
            clock.Reset(wake > At(12, 3) && wake < At(12, 9, 20) ? At(12, 9, 20) : wake);
        }

        Assert.Equal(
            [
                (At(12, 2), At(12, 2)),
                (At(12, 9, 20), At(12, 4)),
                (At(12, 9, 20), At(12, 6)),
                (At(12, 9, 20), At(12, 8)),
                (At(12, 10), At(12, 10)),
                (At(12, 12), At(12, 12)),
                (At(12, 14), At(12, 14)),
            ],
            dispatched);
        Assert.Equal(7, state.TotalRunCount);
        Assert.Equal(0, state.Running);
    }
}
