using NodaTime;
using NodaTime.Text;

namespace Djag.Scheduling.Tests.Simulation;

internal static class SimulationText
{
    private static readonly InstantPattern Clock = InstantPattern.CreateWithInvariantCulture("HH:mm:ss");

    /// <summary>"12:01:45 extract Finished 12:01:00 Success" and, for waits and misfires, " | reason".</summary>
    public static string Line(SimulationEvent e) =>
        $"{Clock.Format(e.At)} {e.Task} {e.Kind} {Clock.Format(e.Cron)}"
        + (e.Outcome is { } o ? $" {o}" : "")
        + (e.Reason is { } r ? $" | {r}" : "");

    public static List<string> Lines(IEnumerable<SimulationEvent> events) => events.Select(Line).ToList();

    public static SimulationTask Sim(TaskDefinition definition, int seconds = 0, params RunOutcome[] outcomes) =>
        new(definition, Duration.FromSeconds(seconds), outcomes.Length == 0 ? [RunOutcome.Success] : outcomes);

    public static SimulationInput Input(
        IReadOnlyList<SimulationTask> tasks,
        Instant to,
        IReadOnlyList<DependencyEdge>? edges = null,
        IReadOnlyList<SimulationWindow>? down = null) =>
        new(tasks, edges ?? [], TestSchedules.T0, to, down ?? []);
}
