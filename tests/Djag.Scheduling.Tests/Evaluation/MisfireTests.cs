using NodaTime;
using static Djag.Scheduling.Tests.TestSchedules;

namespace Djag.Scheduling.Tests.Evaluation;

/// <summary>
/// Section 3. Every task here fires every minute on the minute from cron_base 12:00:00, so its events are
/// 12:01, 12:02, ...; "now" is when the beat comes back after downtime.
/// </summary>
public sealed class MisfireTests
{
    private static readonly TaskState Fresh = TaskState.Empty;

    [Fact]
    public void Before_the_event_nothing_is_due()
    {
        var decision = Evaluate(Task("t", misfire: MisfirePolicy.Skip, graceSeconds: 30), Fresh, At(12, 0, 59));

        var notDue = Assert.IsType<TaskDecision.NotDue>(decision);
        Assert.Equal(At(12, 1), notDue.NextEventAt);
        Assert.Equal(At(12, 1), notDue.NextEvaluationAt);
        Assert.Empty(notDue.Skipped);
    }

    [Theory]
    [InlineData(MisfirePolicy.Skip)]
    [InlineData(MisfirePolicy.Coalesce)]
    [InlineData(MisfirePolicy.RunAll)]
    public void Downtime_inside_grace_dispatches_the_event(MisfirePolicy policy)
    {
        // 12:01 event |--- 20 s late ---| now 12:01:20, grace 30 s: on time
        var decision = Evaluate(Task("t", misfire: policy, graceSeconds: 30), Fresh, At(12, 1, 20));

        var dispatch = Assert.IsType<TaskDecision.Dispatch>(decision);
        Assert.Equal(At(12, 1), dispatch.Event);
        Assert.Empty(dispatch.Skipped);
        Assert.Empty(dispatch.Coalesced);
        Assert.Equal(At(12, 2), dispatch.NextEvaluationAt);
    }

    [Theory]
    [InlineData(MisfirePolicy.Skip)]
    [InlineData(MisfirePolicy.Coalesce)]
    public void Lateness_equal_to_grace_is_on_time(MisfirePolicy policy)
    {
        // 12:01 event |--- exactly 30 s ---| now 12:01:30, grace 30 s: still on time
        var decision = Evaluate(Task("t", misfire: policy, graceSeconds: 30), Fresh, At(12, 1, 30));

        Assert.Equal(At(12, 1), Assert.IsType<TaskDecision.Dispatch>(decision).Event);
        Assert.Empty(decision.Skipped);
        Assert.Empty(decision.Coalesced);
    }

    [Fact]
    public void Skip_drops_an_event_one_second_past_grace()
    {
        // 12:01 event |--- 31 s ---| now 12:01:31, grace 30 s: skipped; 12:02 is next
        var decision = Evaluate(Task("t", misfire: MisfirePolicy.Skip, graceSeconds: 30), Fresh, At(12, 1, 31));

        var notDue = Assert.IsType<TaskDecision.NotDue>(decision);
        Assert.Equal([At(12, 1)], notDue.Skipped);
        Assert.Equal(At(12, 1), notDue.NewPointer);
        Assert.Equal(At(12, 2), notDue.NextEventAt);
    }

    [Fact]
    public void Skip_after_long_downtime_drops_late_events_and_runs_the_one_within_grace()
    {
        // 12:01 12:02 12:03 12:04 (late, skipped) 12:05 (10 s late, on time) | now 12:05:10
        var decision = Evaluate(Task("t", misfire: MisfirePolicy.Skip, graceSeconds: 30), Fresh, At(12, 5, 10));

        var dispatch = Assert.IsType<TaskDecision.Dispatch>(decision);
        Assert.Equal(At(12, 5), dispatch.Event);
        Assert.Equal([At(12, 1), At(12, 2), At(12, 3), At(12, 4)], dispatch.Skipped);
        Assert.Equal(At(12, 5), dispatch.NewPointer);
    }

    [Fact]
    public void Coalesce_one_late_event_stands_for_itself()
    {
        var decision = Evaluate(Task("t", misfire: MisfirePolicy.Coalesce, graceSeconds: 30), Fresh, At(12, 1, 31));

        Assert.Equal(At(12, 1), Assert.IsType<TaskDecision.Dispatch>(decision).Event);
        Assert.Empty(decision.Coalesced);
    }

    [Fact]
    public void Coalesce_after_long_downtime_runs_the_newest_late_event_then_the_on_time_one()
    {
        // 12:01 12:02 12:03 (coalesced) 12:04 (newest late: runs) 12:05 (on time: runs next) | now 12:05:10
        var task = Task("t", misfire: MisfirePolicy.Coalesce, graceSeconds: 30);

        var first = Assert.IsType<TaskDecision.Dispatch>(Evaluate(task, Fresh, At(12, 5, 10)));
        Assert.Equal(At(12, 4), first.Event);
        Assert.Equal([At(12, 1), At(12, 2), At(12, 3)], first.Coalesced);
        Assert.Empty(first.Skipped);
        Assert.Equal(At(12, 5, 10), first.NextEvaluationAt);

        var state = TaskBookkeeping.Apply(Fresh, first, At(12, 5, 10), dispatchMark: 1);
        var second = Assert.IsType<TaskDecision.Dispatch>(Evaluate(task, state, At(12, 5, 10)));
        Assert.Equal(At(12, 5), second.Event);
        Assert.Empty(second.Coalesced);
    }

    [Fact]
    public void Run_all_catches_up_every_event_in_turn_and_never_twice()
    {
        // 12:01 .. 12:05 all due at 12:05:10, dispatched one after another at the same instant.
        var task = Task("t", misfire: MisfirePolicy.RunAll);
        var (dispatched, state, last) = Beat.DriveUntilQuiet(task, Fresh, At(12, 5, 10));

        Assert.Equal([At(12, 1), At(12, 2), At(12, 3), At(12, 4), At(12, 5)], dispatched);
        Assert.Equal(5, state.Running);
        Assert.Equal(At(12, 6), Assert.IsType<TaskDecision.NotDue>(last).NextEventAt);

        // Completing the runs (out of order) and evaluating again dispatches nothing already dispatched.
        long mark = 100;
        foreach (var cron in dispatched.AsEnumerable().Reverse())
        {
            state = TaskBookkeeping.OnCompletion(state, cron, At(12, 5, 20), ++mark, RunOutcome.Success);
        }

        Assert.Equal(0, state.Running);
        Assert.Equal(At(12, 5), state.LastCron);
        Assert.IsType<TaskDecision.NotDue>(Evaluate(task, state, At(12, 5, 30)));
        Assert.Equal(At(12, 6), Assert.IsType<TaskDecision.Dispatch>(Evaluate(task, state, At(12, 6, 30))).Event);
    }

    [Fact]
    public void Max_catchup_keeps_the_newest_and_records_the_cut_as_skipped()
    {
        // 12:01 12:02 12:03 (cut: skipped) 12:04 12:05 (kept, run in turn) | now 12:05:10, max_catchup 2
        var task = Task("t", misfire: MisfirePolicy.RunAll, maxCatchup: 2);

        var first = Assert.IsType<TaskDecision.Dispatch>(Evaluate(task, Fresh, At(12, 5, 10)));
        Assert.Equal(At(12, 4), first.Event);
        Assert.Equal([At(12, 1), At(12, 2), At(12, 3)], first.Skipped);

        var (dispatched, _, _) = Beat.DriveUntilQuiet(task, Fresh, At(12, 5, 10));
        Assert.Equal([At(12, 4), At(12, 5)], dispatched);
    }

    [Fact]
    public void Max_catchup_not_reached_cuts_nothing()
    {
        var decision = Evaluate(Task("t", maxCatchup: 5), Fresh, At(12, 3, 0));

        Assert.Equal(At(12, 1), Assert.IsType<TaskDecision.Dispatch>(decision).Event);
        Assert.Empty(decision.Skipped);
    }

    [Fact]
    public void Cron_base_in_the_future_holds_every_event_until_after_it()
    {
        // cron_base 13:00: events at 12:01 .. 13:00 are not the task's; the first is 13:01.
        var task = Task("t", cronBase: At(13, 0));

        var decision = Assert.IsType<TaskDecision.NotDue>(Evaluate(task, Fresh, At(12, 30)));
        Assert.Equal(At(13, 1), decision.NextEventAt);
        Assert.Empty(decision.Skipped);
        Assert.Equal(At(13, 1), Assert.IsType<TaskDecision.Dispatch>(Evaluate(task, Fresh, At(13, 1))).Event);
    }

    [Fact]
    public void Pointer_is_the_newest_of_pointer_last_cron_and_cron_base()
    {
        var task = Task("t");
        Assert.Equal(T0, TaskEvaluator.PointerOf(task, Fresh));
        Assert.Equal(At(12, 7), TaskEvaluator.PointerOf(task, Fresh with { CronPointer = At(12, 7), LastCron = At(12, 5) }));
        Assert.Equal(At(12, 9), TaskEvaluator.PointerOf(task, Fresh with { CronPointer = At(12, 7), LastCron = At(12, 9) }));
        Assert.Equal(T0, TaskEvaluator.PointerOf(task, Fresh with { CronPointer = At(11, 0) }));
        Assert.Equal(At(12, 10), TaskEvaluator.NextEvent(task, Fresh with { LastCron = At(12, 9) }));
    }

    [Theory]
    [InlineData(MisfirePolicy.Skip)]
    [InlineData(MisfirePolicy.Coalesce)]
    [InlineData(MisfirePolicy.RunAll)]
    public void Without_a_due_event_nothing_waits_for_a_slot_or_a_completion(MisfirePolicy policy)
    {
        // 12:01 dispatched and still running, max_running 1 and a self future-dependency: both hold the next event.
        var task = Task("t", misfire: policy, graceSeconds: 30, maxRunning: 1);
        var running = TaskBookkeeping.OnDispatch(Fresh, At(12, 1), At(12, 1), 1);
        DependencyEdge[] self = [new("t", "t", FutureDepends: true)];
        foreach (var now in new[] { At(12, 1), At(12, 1, 59), At(12, 2), At(12, 3, 40) })
        {
            var due = TaskEvaluator.HasDueEvent(task, running, now);
            var decision = TaskEvaluator.Evaluate(task, running, self, NoDependees, now);

            Assert.Equal(now >= At(12, 2), due);
            if (!due)
            {
                Assert.IsType<TaskDecision.NotDue>(decision);
                Assert.Empty(decision.Skipped);
                Assert.Empty(decision.Coalesced);
            }
            else
            {
                Assert.True(decision is not TaskDecision.NotDue || decision.Skipped.Count + decision.Coalesced.Count > 0, $"{decision} at {now}");
            }
        }

        Assert.False(TaskEvaluator.HasDueEvent(Task("yearly", cron: "0 12 1 1 *"), Fresh with { CronPointer = At(12, 0) }, At(23, 0)));
    }

    [Fact]
    public void Skip_applies_at_the_moment_of_dispatch_when_an_event_waited_past_grace()
    {
        // transform -> extract, skip, grace 30 s.
        // 12:01 transform due, extract never succeeded: waits.
        // 12:01:45 extract succeeds: 12:01 is 45 s late -> skipped; 12:02 not yet due.
        var transform = Task("transform", misfire: MisfirePolicy.Skip, graceSeconds: 30);
        DependencyEdge[] edges = [new("transform", "extract")];
        var extractNever = new Dictionary<string, DependeeStatus> { ["extract"] = new(TaskState.Empty) };

        var waiting = Assert.IsType<TaskDecision.Wait>(TaskEvaluator.Evaluate(transform, Fresh, edges, extractNever, At(12, 1)));
        Assert.Equal(At(12, 1), waiting.Event);
        Assert.Equal(["waiting on transform -> extract: extract has never succeeded"], waiting.Reasons);
        Assert.Equal(At(12, 2), waiting.NextEvaluationAt);

        var extractDone = new Dictionary<string, DependeeStatus>
        {
            ["extract"] = new(TaskBookkeeping.OnCompletion(TaskBookkeeping.OnDispatch(TaskState.Empty, At(12, 1), At(12, 1), 1), At(12, 1), At(12, 1, 45), 2, RunOutcome.Success)),
        };
        var after = Assert.IsType<TaskDecision.NotDue>(TaskEvaluator.Evaluate(transform, Fresh, edges, extractDone, At(12, 1, 45)));
        Assert.Equal([At(12, 1)], after.Skipped);
        Assert.Equal(At(12, 2), after.NextEventAt);

        // Within grace the same completion releases the event.
        var inTime = TaskEvaluator.Evaluate(transform, Fresh, edges, extractDone, At(12, 1, 30));
        Assert.Equal(At(12, 1), Assert.IsType<TaskDecision.Dispatch>(inTime).Event);
    }

    [Fact]
    public void Skipped_events_are_reported_while_waiting()
    {
        // Beat back at 12:05:10 under skip; 12:05 is due but max_running is reached: the four late ones
        // are still reported, so the caller records them and moves the pointer.
        var task = Task("t", misfire: MisfirePolicy.Skip, graceSeconds: 30, maxRunning: 1);
        var busy = Fresh with { Running = 1, LastStartMark = 1 };

        var wait = Assert.IsType<TaskDecision.Wait>(Evaluate(task, busy, At(12, 5, 10)));
        Assert.Equal(At(12, 5), wait.Event);
        Assert.Equal([At(12, 1), At(12, 2), At(12, 3), At(12, 4)], wait.Skipped);
        Assert.Equal(At(12, 4), wait.NewPointer);
        Assert.Equal(["max_running 1 reached (1 running)"], wait.Reasons);

        var recorded = TaskBookkeeping.OnMisfires(busy, wait);
        Assert.Equal(At(12, 4), recorded.CronPointer);
        Assert.Empty(Evaluate(task, recorded, At(12, 5, 10)).Skipped);
    }

    [Fact]
    public void Coalesced_events_are_reported_while_waiting_and_the_standing_event_is_kept()
    {
        var task = Task("t", misfire: MisfirePolicy.Coalesce, graceSeconds: 30, maxRunning: 1);
        var busy = Fresh with { Running = 1, LastStartMark = 1 };

        var wait = Assert.IsType<TaskDecision.Wait>(Evaluate(task, busy, At(12, 3, 40)));
        Assert.Equal(At(12, 3), wait.Event);
        Assert.Equal([At(12, 1), At(12, 2)], wait.Coalesced);
        Assert.Equal(At(12, 2), wait.NewPointer);
    }
}

/// <summary>A minimal beat for one task without dependencies: apply decisions until nothing more is due now.</summary>
internal static class Beat
{
    public static (List<Instant> Dispatched, TaskState State, TaskDecision Last) DriveUntilQuiet(TaskDefinition task, TaskState state, Instant now)
    {
        var dispatched = new List<Instant>();
        long mark = 0;
        for (var guard = 0; guard < 10_000; guard++)
        {
            var decision = Evaluate(task, state, now);
            state = TaskBookkeeping.Apply(state, decision, now, ++mark);
            if (decision is not TaskDecision.Dispatch d)
            {
                return (dispatched, state, decision);
            }

            dispatched.Add(d.Event);
        }

        throw new InvalidOperationException("the beat never came to rest");
    }
}
