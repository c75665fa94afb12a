using Djag.Persistence.Runs;
using Djag.Persistence.Schedules;
using Djag.Scheduling;
using NodaTime;

namespace Djag.Beat.Dispatch;

/// <summary>What <see cref="Dispatcher.DecideAsync"/> decided at <paramref name="Now"/> for each task, with the run it added for a dispatch.</summary>
internal sealed record Decisions(Instant Now, IReadOnlyList<(PeriodicTask Task, TaskDecision Decision, Run? Run)> Items);
