using NodaTime;

namespace Djag.Scheduling;

/// <summary>
/// Section 3: walks the events after the pointer up to now and sorts them into dropped, coalesced and the
/// one event that is due next.
/// </summary>
internal static class MisfireWalk
{
    internal readonly record struct Result(
        IReadOnlyList<Instant> Skipped,
        IReadOnlyList<Instant> Coalesced,
        Instant? Due,
        Instant PointerAfterMisfires);

    public static Result Walk(TaskDefinition task, Instant pointer, Instant now)
    {
        var schedule = task.Schedule;
        var next = schedule.NextAfter(pointer);
        List<Instant>? skipped = null;
        List<Instant>? coalesced = null;

        switch (task.Misfire)
        {
            case MisfirePolicy.Skip:
                while (next is { } e && IsLate(e, now, task.GracePeriod))
                {
                    (skipped ??= []).Add(e);
                    next = schedule.NextAfter(e);
                }

                return Finish(next);

            case MisfirePolicy.Coalesce:
                Instant? standing = null;
                while (next is { } e && IsLate(e, now, task.GracePeriod))
                {
                    if (standing is { } older)
                    {
                        (coalesced ??= []).Add(older);
                    }

                    standing = e;
                    next = schedule.NextAfter(e);
                }

                return standing is { } s ? new Result([], coalesced ?? [], s, Newest(pointer, coalesced)) : Finish(next);

            default:
                if (task.MaxCatchup is { } keep && next is { } first && first <= now)
                {
                    // Events are increasing, so the backlog to cut is everything but the newest `keep` due ones.
                    var due = new List<Instant>();
                    for (var e = next; e is { } i && i <= now; e = schedule.NextAfter(i))
                    {
                        due.Add(i);
                    }

                    var cut = Math.Max(0, due.Count - Math.Max(0, keep));
                    skipped = due.GetRange(0, cut);
                    next = cut < due.Count ? due[cut] : schedule.NextAfter(due[^1]);
                }

                return Finish(next);
        }

        Result Finish(Instant? candidate) =>
            new(skipped ?? [], coalesced ?? [], candidate is { } c && c <= now ? c : null, Newest(pointer, skipped));
    }

    /// <summary>Lateness equal to grace is still on time.</summary>
    public static bool IsLate(Instant cronEvent, Instant now, Duration grace) => now - cronEvent > grace;

    private static Instant Newest(Instant pointer, List<Instant>? consumed) =>
        consumed is { Count: > 0 } && consumed[^1] > pointer ? consumed[^1] : pointer;
}
