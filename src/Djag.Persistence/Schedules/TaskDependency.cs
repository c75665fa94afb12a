using Djag.Scheduling;
using NodaTime;

namespace Djag.Persistence.Schedules;

/// <summary>An edge depender → dependee: a due event of the depender waits until the edge is resolved.</summary>
public sealed class TaskDependency
{
    public long Id { get; set; }
    public long DependerId { get; set; }
    public PeriodicTask Depender { get; set; } = null!;
    public long DependeeId { get; set; }
    public PeriodicTask Dependee { get; set; } = null!;
    public bool FutureDepends { get; set; }
    public DependencyCondition Condition { get; set; } = DependencyCondition.Success;

    /// <summary>Set on create and on every change.</summary>
    public Instant ChangeDt { get; set; }

    /// <summary>The event mark of the last change, compared with the depender's start mark.</summary>
    public long ChangeMark { get; set; }
}
