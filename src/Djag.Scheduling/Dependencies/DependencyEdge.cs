namespace Djag.Scheduling;

/// <summary>What counts as a completed run of the dependee (semantics.md section 4).</summary>
public enum DependencyCondition
{
    /// <summary>Only a successful run releases the depender (the default: a failed run releases nothing).</summary>
    Success,

    /// <summary>Any finished run releases the depender, as the original's post-run signal did.</summary>
    Completion,
}

/// <summary>
/// Depender waits on dependee. <see cref="ChangedAt"/> is the mark (beat sequence number, see
/// the remarks of <see cref="TaskState"/>) of the edge's creation or last change; it matters only for future edges.
/// </summary>
public sealed record DependencyEdge(
    string Depender,
    string Dependee,
    bool FutureDepends = false,
    DependencyCondition Condition = DependencyCondition.Success,
    long ChangedAt = 0)
{
    public override string ToString() => $"{Depender} -> {Dependee}";
}
