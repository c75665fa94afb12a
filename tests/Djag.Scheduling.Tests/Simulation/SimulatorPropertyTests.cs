using CsCheck;
using NodaTime;

namespace Djag.Scheduling.Tests.Simulation;

/// <summary>
/// Random small schedules, policies, dependencies and beat downtimes over two hours that cross the
/// Europe/Berlin spring-forward gap (2025-03-30 01:00Z).
/// </summary>
public sealed class SimulatorPropertyTests
{
    private static readonly Instant From = Instant.FromUtc(2025, 3, 30, 0, 0);
    private static readonly Instant To = From + Duration.FromHours(2);

    private static readonly string[] Crons = ["* * * * *", "*/2 * * * *", "*/5 * * * *", "*/20 * * * * *", "0 */7 * * * *", "30 2 * * *"];
    private static readonly string[] Zones = ["UTC", "Europe/Berlin"];

    private static readonly Gen<SimulationTask> Tasks = Gen.Select(
        Gen.Int[0, Crons.Length - 1],
        Gen.Int[0, Zones.Length - 1],
        Gen.Int[0, 2],
        Gen.Int[0, 180],
        Gen.Int[0, 4],
        Gen.Int[0, 2],
        Gen.Int[0, 400],
        Gen.Bool.Array[1, 3],
        Gen.Int[-600, 600],
        (cron, zone, policy, grace, catchup, maxRunning, seconds, outcomes, baseOffset) => new SimulationTask(
            new TaskDefinition(
                "?",
                CronSchedule.Parse(Crons[cron], Zones[zone]),
                From + Duration.FromSeconds(baseOffset),
                (MisfirePolicy)policy,
                Duration.FromSeconds(grace),
                catchup == 0 ? null : catchup,
                maxRunning == 0 ? null : maxRunning),
            Duration.FromSeconds(seconds),
            outcomes.Select(ok => ok ? RunOutcome.Success : RunOutcome.Failure).ToArray()));

    private static readonly Gen<SimulationInput> Inputs = Gen.Select(
        Tasks.Array[1, 3],
        Gen.Int[0, 6].Array[9],
        Gen.Select(Gen.Int[0, 7200], Gen.Int[0, 2400]).Array[0, 2],
        (tasks, links, windows) =>
        {
            var named = tasks.Select((t, i) => t with { Definition = t.Definition with { Name = ((char)('a' + i)).ToString() } }).ToArray();
            var edges = new List<DependencyEdge>();
            for (var i = 0; i < named.Length; i++)
            {
                for (var j = 0; j < named.Length; j++)
                {
                    var (depender, dependee) = (named[i].Definition.Name, named[j].Definition.Name);
                    var link = links[(i * 3) + j];
                    var condition = link % 2 == 0 ? DependencyCondition.Success : DependencyCondition.Completion;
                    if (link >= 5)
                    {
                        edges.Add(new DependencyEdge(depender, dependee, FutureDepends: true, Condition: condition));
                    }
                    else if (link >= 3 && i > j)
                    {
                        edges.Add(new DependencyEdge(depender, dependee, Condition: condition));
                    }
                }
            }

            var down = windows.Select(w => new SimulationWindow(From + Duration.FromSeconds(w.Item1), From + Duration.FromSeconds(w.Item1 + w.Item2))).ToArray();
            return new SimulationInput(named, edges, From, To, down);
        });

    private static string Describe(SimulationInput input) =>
        string.Join(" | ", input.Tasks.Select(t => $"{t.Definition.Name}: {t.Definition.Schedule} {t.Definition.Misfire} grace {t.Definition.GracePeriod} base {t.Definition.CronBase} catchup {t.Definition.MaxCatchup} maxrun {t.Definition.MaxRunning} dur {t.RunDuration} [{string.Join(",", t.Outcomes)}]"))
        + " | edges " + string.Join(", ", input.Edges.Select(e => $"{e}{(e.FutureDepends ? " (future)" : "")} {e.Condition}"))
        + " | down " + string.Join(", ", input.BeatDown.Select(w => $"{w.From}-{w.To}"));

    [Fact]
    public void Property_no_event_is_consumed_twice_and_every_event_is_a_real_occurrence()
    {
        Inputs.Sample(input =>
        {
            var events = Simulator.Run(input).ToList();
            var definitions = input.Tasks.ToDictionary(t => t.Definition.Name, t => t.Definition);
            var consumed = new HashSet<(string, Instant)>();
            var dispatched = new HashSet<(string, Instant)>();
            var running = definitions.Keys.ToDictionary(k => k, _ => 0);

            foreach (var e in events)
            {
                var definition = definitions[e.Task];
                Assert.InRange(e.At, input.From, input.To - Duration.Epsilon);
                switch (e.Kind)
                {
                    case SimulationEventKind.Dispatched or SimulationEventKind.Skipped or SimulationEventKind.Coalesced:
                        Assert.True(consumed.Add((e.Task, e.Cron)), $"{e} consumed twice");
                        Assert.Equal(e.Cron, definition.Schedule.NextAfter(e.Cron - Duration.Epsilon));
                        Assert.True(e.Cron > definition.CronBase, $"{e} is not after cron_base");
                        Assert.True(e.Cron <= e.At, $"{e} consumed before it was due");
                        Assert.DoesNotContain(input.BeatDown, w => w.From <= e.At && e.At < w.To);
                        if (e.Kind == SimulationEventKind.Dispatched)
                        {
                            dispatched.Add((e.Task, e.Cron));
                            running[e.Task]++;
                            Assert.InRange(running[e.Task], 1, definition.MaxRunning ?? int.MaxValue);
                        }

                        break;

                    case SimulationEventKind.Finished:
                        Assert.Contains((e.Task, e.Cron), dispatched);
                        Assert.NotNull(e.Outcome);
                        running[e.Task]--;
                        break;

                    case SimulationEventKind.Waiting:
                        Assert.False(string.IsNullOrEmpty(e.Reason));
                        Assert.True(e.Cron <= e.At);
                        break;
                }
            }
        }, iter: 150, print: Describe);
    }

    [Fact]
    public void Property_output_is_in_time_order()
    {
        Inputs.Sample(input =>
        {
            var events = Simulator.Run(input).ToList();
            for (var i = 1; i < events.Count; i++)
            {
                Assert.True(events[i - 1].At <= events[i].At, $"{events[i - 1]} before {events[i]}");
            }
        }, iter: 150, print: Describe);
    }

    [Fact]
    public void Property_simulation_is_deterministic()
    {
        Inputs.Sample(input => Assert.Equal(Simulator.Run(input), Simulator.Run(input)), iter: 50, print: Describe);
    }
}
