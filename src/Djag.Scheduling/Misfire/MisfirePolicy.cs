namespace Djag.Scheduling;

/// <summary>What happens to events later than the grace period (semantics.md section 3).</summary>
public enum MisfirePolicy
{
    /// <summary>Neither skip nor coalesce: every event runs in turn, however late (bounded by max_catchup).</summary>
    RunAll,

    /// <summary>skip_misfire: events later than grace are dropped.</summary>
    Skip,

    /// <summary>coalesce_misfire: the newest late event stands for all late ones.</summary>
    Coalesce,
}
