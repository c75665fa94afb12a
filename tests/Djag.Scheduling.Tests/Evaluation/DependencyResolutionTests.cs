using static Djag.Scheduling.Tests.TestSchedules;

namespace Djag.Scheduling.Tests.Evaluation;

/// <summary>
/// Section 4 with marks: numbers the beat hands out in the order it observes starts, completions and edge
/// changes. The depender "transform" is due at 12:01 in every test.
/// </summary>
public sealed class DependencyResolutionTests
{
    private static readonly TaskDefinition Transform = Task("transform");

    private static TaskState Started(long mark) => TaskState.Empty with { LastStartMark = mark, CronPointer = T0 };

    private static TaskState Ran(long? success = null, long? completion = null) =>
        TaskState.Empty with { LastSuccessMark = success, LastCompletionMark = completion ?? success };

    private static TaskDecision Decide(TaskState transform, DependencyEdge edge, DependeeStatus? extract)
    {
        var dependees = new Dictionary<string, DependeeStatus>();
        if (extract is not null)
        {
            dependees[edge.Dependee] = extract;
        }

        return TaskEvaluator.Evaluate(Transform, transform, [edge], dependees, At(12, 1));
    }

    private static readonly DependencyEdge OnExtract = new("transform", "extract");

    [Fact]
    public void Dependee_that_succeeded_after_the_depender_started_releases_it()
    {
        // mark 3: transform started | mark 5: extract succeeded
        Assert.IsType<TaskDecision.Dispatch>(Decide(Started(3), OnExtract, new(Ran(success: 5))));
    }

    [Fact]
    public void Dependee_success_before_the_depender_started_does_not_release()
    {
        // mark 2: extract succeeded | mark 3: transform started
        var wait = Assert.IsType<TaskDecision.Wait>(Decide(Started(3), OnExtract, new(Ran(success: 2))));
        Assert.Equal(["waiting on transform -> extract: extract has not succeeded since transform last started"], wait.Reasons);
    }

    [Fact]
    public void A_depender_that_never_started_counts_as_before_everything()
    {
        Assert.IsType<TaskDecision.Dispatch>(Decide(TaskState.Empty, OnExtract, new(Ran(success: 1))));
        var wait = Assert.IsType<TaskDecision.Wait>(Decide(TaskState.Empty, OnExtract, new(TaskState.Empty)));
        Assert.Equal(["waiting on transform -> extract: extract has never succeeded"], wait.Reasons);
    }

    [Fact]
    public void Failed_dependee_releases_nothing_under_success()
    {
        // mark 3: transform started | mark 5: extract finished with a failure (last success at 2)
        var wait = Assert.IsType<TaskDecision.Wait>(Decide(Started(3), OnExtract, new(Ran(success: 2, completion: 5))));
        Assert.Equal(["waiting on transform -> extract: extract has not succeeded since transform last started"], wait.Reasons);
    }

    [Fact]
    public void Failed_dependee_releases_under_completion()
    {
        var edge = OnExtract with { Condition = DependencyCondition.Completion };
        Assert.IsType<TaskDecision.Dispatch>(Decide(Started(3), edge, new(Ran(success: 2, completion: 5))));

        var wait = Assert.IsType<TaskDecision.Wait>(Decide(Started(3), edge, new(Ran(success: 2, completion: 2))));
        Assert.Equal(["waiting on transform -> extract: extract has not completed since transform last started"], wait.Reasons);
    }

    [Fact]
    public void Deleted_dependee_keeps_the_depender_waiting_with_the_reason()
    {
        var wait = Assert.IsType<TaskDecision.Wait>(Decide(TaskState.Empty, OnExtract, null));
        Assert.Equal(At(12, 1), wait.Event);
        Assert.Equal(["waiting on transform -> extract: extract does not exist (deleted or never created)"], wait.Reasons);
    }

    [Fact]
    public void Disabled_dependee_keeps_the_depender_waiting_even_on_a_free_future_edge()
    {
        var wait = Assert.IsType<TaskDecision.Wait>(Decide(TaskState.Empty, OnExtract with { FutureDepends = true }, new(Ran(success: 9), Enabled: false)));
        Assert.Equal(["waiting on transform -> extract: extract is disabled"], wait.Reasons);
    }

    [Fact]
    public void Future_dependency_on_another_task_first_run_free_later_runs_wait()
    {
        var edge = OnExtract with { FutureDepends = true };

        // Never started: free, although extract never ran.
        Assert.IsType<TaskDecision.Dispatch>(Decide(TaskState.Empty, edge, new(TaskState.Empty)));

        // mark 1 transform started, extract has not completed since: waits.
        var wait = Assert.IsType<TaskDecision.Wait>(Decide(Started(1), edge, new(TaskState.Empty)));
        Assert.Equal(["waiting on transform -> extract: extract has never succeeded"], wait.Reasons);

        // mark 2 extract succeeded: released.
        Assert.IsType<TaskDecision.Dispatch>(Decide(Started(1), edge, new(Ran(success: 2))));
    }

    [Fact]
    public void Changed_edge_makes_the_next_run_free_again()
    {
        // mark 1 transform started | mark 4 edge changed (ChangedAt 4): transform has not started since -> free.
        var changed = OnExtract with { FutureDepends = true, ChangedAt = 4 };
        Assert.IsType<TaskDecision.Dispatch>(Decide(Started(1), changed, new(TaskState.Empty)));

        // mark 6 transform started again: the edge binds once more.
        Assert.IsType<TaskDecision.Wait>(Decide(Started(6), changed, new(TaskState.Empty)));

        // A change at the same mark as the start (impossible from one sequence, but) is not "since".
        Assert.IsType<TaskDecision.Wait>(Decide(Started(4), changed, new(TaskState.Empty)));
    }

    [Fact]
    public void Self_future_dependency_waits_for_the_previous_run()
    {
        var self = new DependencyEdge("transform", "transform", FutureDepends: true, Condition: DependencyCondition.Completion);
        var running = Started(1) with { Running = 1 };

        var wait = Assert.IsType<TaskDecision.Wait>(TaskEvaluator.Evaluate(Transform, running, [self], NoDependees, At(12, 1)));
        Assert.Equal(["waiting on transform -> transform: transform has never completed"], wait.Reasons);

        var finished = TaskBookkeeping.OnCompletion(running, T0, At(12, 0, 50), 2, RunOutcome.Failure);
        Assert.IsType<TaskDecision.Dispatch>(TaskEvaluator.Evaluate(Transform, finished, [self], NoDependees, At(12, 1)));
    }

    [Fact]
    public void Max_running_holds_a_due_event()
    {
        var task = Task("t", maxRunning: 2);

        Assert.IsType<TaskDecision.Dispatch>(Evaluate(task, TaskState.Empty with { Running = 1 }, At(12, 1)));
        var wait = Assert.IsType<TaskDecision.Wait>(Evaluate(task, TaskState.Empty with { Running = 2 }, At(12, 1)));
        Assert.Equal(["max_running 2 reached (2 running)"], wait.Reasons);
    }

    [Fact]
    public void Every_blocking_edge_and_limit_is_named_in_order()
    {
        var task = Task("load", maxRunning: 1);
        DependencyEdge[] edges = [new("load", "transform"), new("load", "audit"), new("load", "ok"), new("other", "x")];
        var dependees = new Dictionary<string, DependeeStatus>
        {
            ["transform"] = new(TaskState.Empty),
            ["ok"] = new(Ran(success: 1)),
        };

        var wait = Assert.IsType<TaskDecision.Wait>(TaskEvaluator.Evaluate(task, TaskState.Empty with { Running = 1 }, edges, dependees, At(12, 1)));

        Assert.Equal(
            [
                "max_running 1 reached (1 running)",
                "waiting on load -> audit: audit does not exist (deleted or never created)",
                "waiting on load -> transform: transform has never succeeded",
            ],
            wait.Reasons);

        var all = TaskEvaluator.ResolveEdges("load", TaskState.Empty, edges, dependees);
        Assert.Equal(["audit", "ok", "transform"], all.Select(r => r.Edge.Dependee));
        Assert.Equal([false, true, false], all.Select(r => r.Resolved));
    }

    [Fact]
    public void Diamond_join_needs_both_branches()
    {
        // report -> left -> source, report -> right -> source. mark 1: report started.
        var report = Task("report");
        DependencyEdge[] edges = [new("report", "left"), new("report", "right")];
        Dictionary<string, DependeeStatus> Branches(long? left, long? right) => new()
        {
            ["left"] = new(Ran(success: left)),
            ["right"] = new(Ran(success: right)),
        };

        var wait = Assert.IsType<TaskDecision.Wait>(TaskEvaluator.Evaluate(report, Started(1), edges, Branches(2, null), At(12, 1)));
        Assert.Equal(["waiting on report -> right: right has never succeeded"], wait.Reasons);
        Assert.IsType<TaskDecision.Dispatch>(TaskEvaluator.Evaluate(report, Started(1), edges, Branches(2, 3), At(12, 1)));
    }
}
