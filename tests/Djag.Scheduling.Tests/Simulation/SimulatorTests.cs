using NodaTime;
using static Djag.Scheduling.Tests.Simulation.SimulationText;
using static Djag.Scheduling.Tests.TestSchedules;

namespace Djag.Scheduling.Tests.Simulation;

/// <summary>Whole timelines. Simulations start at 12:00:00 with every task's cron_base there.</summary>
public sealed class SimulatorTests
{
    private static List<string> Simulate(SimulationInput input) => Lines(Simulator.Run(input));

    [Fact]
    public void Slow_dependee_makes_the_depender_skip_that_event()
    {
        // extract 12:01 ----------- 45 s ----------- 12:01:45 done
        // transform 12:01 waits ................. 45 s late > grace 30 s -> skipped; runs at 12:02
        var input = Input(
            [
                Sim(Task("extract"), seconds: 45),
                Sim(Task("transform", misfire: MisfirePolicy.Skip, graceSeconds: 30)),
            ],
            to: At(12, 3),
            edges: [new("transform", "extract")]);

        Assert.Equal(
            [
                "12:01:00 extract Dispatched 12:01:00",
                "12:01:00 transform Waiting 12:01:00 | waiting on transform -> extract: extract has never succeeded",
                "12:01:45 extract Finished 12:01:00 Success",
                "12:01:45 transform Skipped 12:01:00 | late by 45 s, grace 30 s",
                "12:02:00 extract Dispatched 12:02:00",
                "12:02:00 transform Dispatched 12:02:00",
                "12:02:00 transform Finished 12:02:00 Success",
                "12:02:45 extract Finished 12:02:00 Success",
            ],
            Simulate(input));
    }

    [Fact]
    public void Skip_downtime_past_grace_skips_then_runs_the_event_within_grace()
    {
        // beat down 12:00:30 .. 12:05:10; 12:01-12:04 are > 30 s late, 12:05 is 10 s late
        var input = Input([Sim(Task("t", misfire: MisfirePolicy.Skip, graceSeconds: 30))], to: At(12, 6), down: [new(At(12, 0, 30), At(12, 5, 10))]);

        Assert.Equal(
            [
                "12:05:10 t Skipped 12:01:00 | late by 250 s, grace 30 s",
                "12:05:10 t Skipped 12:02:00 | late by 190 s, grace 30 s",
                "12:05:10 t Skipped 12:03:00 | late by 130 s, grace 30 s",
                "12:05:10 t Skipped 12:04:00 | late by 70 s, grace 30 s",
                "12:05:10 t Dispatched 12:05:00",
                "12:05:10 t Finished 12:05:00 Success",
            ],
            Simulate(input));
    }

    [Theory]
    [InlineData(29, "12:01:29 t Dispatched 12:01:00")]
    [InlineData(30, "12:01:30 t Dispatched 12:01:00")]
    [InlineData(31, "12:01:31 t Skipped 12:01:00 | late by 31 s, grace 30 s")]
    public void Skip_downtime_ending_around_grace(int backAtSecond, string first)
    {
        // 12:01 event | beat back at 12:01:29 (inside grace), :30 (equal: on time), :31 (past grace)
        var input = Input([Sim(Task("t", misfire: MisfirePolicy.Skip, graceSeconds: 30))], to: At(12, 2), down: [new(At(12, 0, 30), At(12, 1, backAtSecond))]);

        Assert.Equal(first, Simulate(input)[0]);
    }

    [Fact]
    public void Coalesce_downtime_runs_the_newest_late_event_for_the_others()
    {
        var input = Input([Sim(Task("t", misfire: MisfirePolicy.Coalesce, graceSeconds: 30), seconds: 5)], to: At(12, 6), down: [new(At(12, 0, 30), At(12, 5, 10))]);

        Assert.Equal(
            [
                "12:05:10 t Coalesced 12:01:00 | coalesced into a later late event",
                "12:05:10 t Coalesced 12:02:00 | coalesced into a later late event",
                "12:05:10 t Coalesced 12:03:00 | coalesced into a later late event",
                "12:05:10 t Dispatched 12:04:00",
                "12:05:10 t Dispatched 12:05:00",
                "12:05:15 t Finished 12:04:00 Success",
                "12:05:15 t Finished 12:05:00 Success",
            ],
            Simulate(input));
    }

    [Fact]
    public void Run_all_downtime_catches_up_each_event_once_while_runs_in_flight_finish_during_downtime()
    {
        // 12:01 dispatched, runs 90 s | beat down 12:01:30 .. 12:04:10 | 12:02:30 finishes while down
        var input = Input([Sim(Task("t"), seconds: 90)], to: At(12, 5), down: [new(At(12, 1, 30), At(12, 4, 10))]);

        Assert.Equal(
            [
                "12:01:00 t Dispatched 12:01:00",
                "12:02:30 t Finished 12:01:00 Success",
                "12:04:10 t Dispatched 12:02:00",
                "12:04:10 t Dispatched 12:03:00",
                "12:04:10 t Dispatched 12:04:00",
            ],
            Simulate(input));
    }

    [Fact]
    public void Max_catchup_cut_is_reported_as_skipped()
    {
        var input = Input([Sim(Task("t", maxCatchup: 2))], to: At(12, 6), down: [new(At(12, 0), At(12, 5, 10))]);

        var lines = Simulate(input);

        Assert.Equal(
            [
                "12:05:10 t Skipped 12:01:00 | beyond max_catchup 2",
                "12:05:10 t Skipped 12:02:00 | beyond max_catchup 2",
                "12:05:10 t Skipped 12:03:00 | beyond max_catchup 2",
                "12:05:10 t Dispatched 12:04:00",
                "12:05:10 t Dispatched 12:05:00",
            ],
            lines.Where(l => !l.Contains("Finished", StringComparison.Ordinal)));
    }

    [Fact]
    public void Self_future_dependency_never_overlaps_and_catches_up_in_order()
    {
        // Every minute, each run takes 150 s: 12:01 runs 12:01:00-12:03:30, then 12:02 at once, ...
        var input = Input(
            [Sim(Task("t"), seconds: 150)],
            to: At(12, 20),
            edges: [new("t", "t", FutureDepends: true, Condition: DependencyCondition.Completion)]);

        var events = Simulator.Run(input).ToList();

        var dispatches = events.Where(e => e.Kind == SimulationEventKind.Dispatched).ToList();
        Assert.Equal(Enumerable.Range(1, dispatches.Count).Select(m => At(12, m)), dispatches.Select(d => d.Cron));
        Assert.Equal([At(12, 1), At(12, 3, 30), At(12, 6), At(12, 8, 30)], dispatches.Take(4).Select(d => d.At));
        AssertNoOverlap(events, limit: 1);
        Assert.Contains(
            "12:02:00 t Waiting 12:02:00 | waiting on t -> t: t has never completed",
            Lines(events));
    }

    [Fact]
    public void Max_running_limits_concurrency()
    {
        var input = Input([Sim(Task("t", maxRunning: 2), seconds: 150)], to: At(12, 30));

        var events = Simulator.Run(input).ToList();

        AssertNoOverlap(events, limit: 2);
        Assert.Contains("12:03:00 t Waiting 12:03:00 | max_running 2 reached (2 running)", Lines(events));
        Assert.Contains("12:03:30 t Dispatched 12:03:00", Lines(events));
    }

    [Fact]
    public void Future_dependency_on_another_task_frees_the_first_run_only()
    {
        // report (every minute) future-depends on rollup (every 5 minutes)
        var input = Input(
            [Sim(Task("report")), Sim(Task("rollup", cron: "*/5 * * * *"))],
            to: At(12, 6),
            edges: [new("report", "rollup", FutureDepends: true)]);

        Assert.Equal(
            [
                "12:01:00 report Dispatched 12:01:00",
                "12:01:00 report Finished 12:01:00 Success",
                "12:02:00 report Waiting 12:02:00 | waiting on report -> rollup: rollup has never succeeded",
                "12:05:00 rollup Dispatched 12:05:00",
                "12:05:00 rollup Finished 12:05:00 Success",
                "12:05:00 report Dispatched 12:02:00",
                "12:05:00 report Finished 12:02:00 Success",
                "12:05:00 report Waiting 12:03:00 | waiting on report -> rollup: rollup has not succeeded since report last started",
            ],
            Simulate(input));
    }

    [Fact]
    public void Diamond_join_waits_for_both_branches_and_reports_the_changing_reason()
    {
        //            source (10 s)
        //          /              \
        //   left (20 s)        right (40 s)
        //          \              /
        //            report
        var input = Input(
            [
                Sim(Task("left"), seconds: 20),
                Sim(Task("report")),
                Sim(Task("right"), seconds: 40),
                Sim(Task("source"), seconds: 10),
            ],
            to: At(12, 2),
            edges: [new("left", "source"), new("right", "source"), new("report", "left"), new("report", "right")]);

        Assert.Equal(
            [
                "12:01:00 left Waiting 12:01:00 | waiting on left -> source: source has never succeeded",
                "12:01:00 report Waiting 12:01:00 | waiting on report -> left: left has never succeeded; waiting on report -> right: right has never succeeded",
                "12:01:00 right Waiting 12:01:00 | waiting on right -> source: source has never succeeded",
                "12:01:00 source Dispatched 12:01:00",
                "12:01:10 source Finished 12:01:00 Success",
                "12:01:10 left Dispatched 12:01:00",
                "12:01:10 right Dispatched 12:01:00",
                "12:01:30 left Finished 12:01:00 Success",
                "12:01:30 report Waiting 12:01:00 | waiting on report -> right: right has never succeeded",
                "12:01:50 right Finished 12:01:00 Success",
                "12:01:50 report Dispatched 12:01:00",
                "12:01:50 report Finished 12:01:00 Success",
            ],
            Simulate(input));
    }

    [Theory]
    [InlineData(DependencyCondition.Success, false)]
    [InlineData(DependencyCondition.Completion, true)]
    public void Failed_dependee_releases_only_under_completion(DependencyCondition condition, bool released)
    {
        var input = Input(
            [Sim(Task("extract"), seconds: 10, RunOutcome.Failure), Sim(Task("transform"))],
            to: At(12, 4),
            edges: [new("transform", "extract", Condition: condition)]);

        var lines = Simulate(input);

        Assert.Equal(3, lines.Count(l => l.Contains("extract Finished", StringComparison.Ordinal) && l.EndsWith("Failure", StringComparison.Ordinal)));
        Assert.Equal(released, lines.Contains("12:01:10 transform Dispatched 12:01:00"));
        Assert.Equal(released ? 3 : 0, lines.Count(l => l.Contains("transform Dispatched", StringComparison.Ordinal)));
        if (!released)
        {
            // One wait, reported once although re-evaluated at every extract finish and every minute.
            Assert.Equal(
                ["12:01:00 transform Waiting 12:01:00 | waiting on transform -> extract: extract has never succeeded"],
                lines.Where(l => l.Contains("transform", StringComparison.Ordinal)));
        }
    }

    [Fact]
    public void Outcomes_repeat_in_turn()
    {
        var input = Input([Sim(Task("t"), 0, RunOutcome.Success, RunOutcome.Failure)], to: At(12, 5));

        var outcomes = Simulator.Run(input).Where(e => e.Kind == SimulationEventKind.Finished).Select(e => e.Outcome);

        Assert.Equal([RunOutcome.Success, RunOutcome.Failure, RunOutcome.Success, RunOutcome.Failure], outcomes);
    }

    [Fact]
    public void Cron_base_in_the_future_starts_after_it()
    {
        var input = Input([new SimulationTask(Task("t", cronBase: At(12, 10)))], to: At(12, 12));

        Assert.Equal(
            ["12:11:00 t Dispatched 12:11:00", "12:11:00 t Finished 12:11:00 Success"],
            Simulate(input));
    }

    [Fact]
    public void Nothing_at_or_after_the_end_is_reported()
    {
        var input = Input([Sim(Task("t"), seconds: 30)], to: At(12, 1, 30));

        Assert.Equal(["12:01:00 t Dispatched 12:01:00"], Simulate(input));
    }

    [Fact]
    public void A_one_second_cron_over_a_day_is_simulated_event_by_event()
    {
        var input = new SimulationInput(
            [new SimulationTask(Task("tick", cron: "* * * * * *", cronBase: Instant.FromUtc(2025, 1, 6, 0, 0)))],
            [],
            Instant.FromUtc(2025, 1, 6, 0, 0),
            Instant.FromUtc(2025, 1, 7, 0, 0),
            []);

        var counts = Simulator.Run(input).GroupBy(e => e.Kind).ToDictionary(g => g.Key, g => g.Count());

        // 00:00:01 .. 23:59:59
        Assert.Equal(86_399, counts[SimulationEventKind.Dispatched]);
        Assert.Equal(86_399, counts[SimulationEventKind.Finished]);
        Assert.Equal(2, counts.Count);
    }

    [Fact]
    public void Duplicate_task_names_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => Simulator.Run(Input([new SimulationTask(Task("t")), new SimulationTask(Task("t"))], At(12, 5))));
    }

    private static void AssertNoOverlap(List<SimulationEvent> events, int limit)
    {
        var running = 0;
        foreach (var e in events)
        {
            running += e.Kind switch
            {
                SimulationEventKind.Dispatched => 1,
                SimulationEventKind.Finished => -1,
                _ => 0,
            };
            Assert.InRange(running, 0, limit);
        }
    }
}
