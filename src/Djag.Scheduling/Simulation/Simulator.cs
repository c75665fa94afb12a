using NodaTime;

namespace Djag.Scheduling;

/// <summary>
/// Replays the beat over virtual time with the same <see cref="TaskEvaluator"/> the beat uses: what
/// <c>djag simulate</c> prints.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Time jumps from one relevant instant to the next: a task's next evaluation time, a run's finish,
/// the end of a beat-down window. Nothing at or after <see cref="SimulationInput.To"/> is reported.</item>
/// <item>At one instant, pending finishes are applied before any dispatch; tasks are evaluated in ordinal
/// name order; a finish re-evaluates the task itself and its dependers at once (at the same instant), and a
/// zero-length run's finish is applied before the next task is evaluated.</item>
/// <item>Marks come from a counter: each dispatch and each finish takes the next one.</item>
/// <item>While the beat is down nothing is evaluated or dispatched. Runs in flight still finish, and their
/// completion is applied (and reported) at the time they finish, as workers report to the database without
/// the beat. When the beat comes back every task is evaluated with the misfire rules against that moment.</item>
/// <item>A Waiting line is emitted when an event starts waiting and again only when its reasons change.</item>
/// </list>
/// </remarks>
public static class Simulator
{
    public static IEnumerable<SimulationEvent> Run(SimulationInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var duplicate = input.Tasks.GroupBy(t => t.Definition.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException($"task '{duplicate.Key}' appears more than once", nameof(input));
        }

        return new Replay(input).Events();
    }

    private sealed class Replay
    {
        private readonly SimulationInput _input;
        private readonly SortedDictionary<string, SimulationTask> _tasks = new(StringComparer.Ordinal);
        private readonly Dictionary<string, TaskState> _states = new(StringComparer.Ordinal);
        private readonly Dictionary<string, Instant?> _nextEvaluation = new(StringComparer.Ordinal);
        private readonly Dictionary<string, (Instant Cron, string Reason)> _shownWaiting = new(StringComparer.Ordinal);
        private readonly Dictionary<string, int> _runCount = new(StringComparer.Ordinal);
        private readonly Dictionary<string, List<DependencyEdge>> _edgesOf = new(StringComparer.Ordinal);
        private readonly Dictionary<string, List<string>> _dependersOf = new(StringComparer.Ordinal);
        private readonly PriorityQueue<Finish, FinishKey> _finishes = new();
        private readonly SortedSet<string> _dirty = new(StringComparer.Ordinal);

        // Only a waiting task can be released by a finish; a task with nothing due cannot.
        private readonly HashSet<string> _waiting = new(StringComparer.Ordinal);
        private readonly List<SimulationWindow> _down;
        private long _mark;

        public Replay(SimulationInput input)
        {
            _input = input;
            foreach (var task in input.Tasks)
            {
                var name = task.Definition.Name;
                _tasks[name] = task;
                _states[name] = TaskState.Empty;
                _nextEvaluation[name] = input.From;
                _runCount[name] = 0;
                _edgesOf[name] = [];
                _dependersOf[name] = [];
            }

            foreach (var edge in input.Edges)
            {
                if (_edgesOf.TryGetValue(edge.Depender, out var list))
                {
                    list.Add(edge);
                }

                if (_dependersOf.TryGetValue(edge.Dependee, out var dependers))
                {
                    dependers.Add(edge.Depender);
                }
            }

            _down = input.BeatDown.Where(w => w.To > w.From).OrderBy(w => w.From).ToList();
        }

        private readonly record struct Finish(string Task, Instant Cron, RunOutcome Outcome);

        /// <summary>Finishes at one instant apply in ordinal task order, then in cron order.</summary>
        private readonly record struct FinishKey(Instant At, string Task, Instant Cron, long Mark) : IComparable<FinishKey>
        {
            public int CompareTo(FinishKey other)
            {
                var c = At.CompareTo(other.At);
                if (c == 0)
                {
                    c = string.CompareOrdinal(Task, other.Task);
                }

                if (c == 0)
                {
                    c = Cron.CompareTo(other.Cron);
                }

                return c != 0 ? c : Mark.CompareTo(other.Mark);
            }
        }

        public IEnumerable<SimulationEvent> Events()
        {
            var dependees = new Dictionary<string, DependeeStatus>(StringComparer.Ordinal);
            var now = _input.From;
            var wasDown = false;
            while (now < _input.To)
            {
                var beatUp = !IsDown(now);
                if (beatUp && wasDown)
                {
                    _dirty.UnionWith(_tasks.Keys);
                }
                else if (beatUp)
                {
                    foreach (var (name, at) in _nextEvaluation)
                    {
                        if (at is { } t && t <= now)
                        {
                            _dirty.Add(name);
                        }
                    }
                }

                wasDown = !beatUp;

                while (true)
                {
                    foreach (var e in ApplyFinishes(now, beatUp))
                    {
                        yield return e;
                    }

                    if (!beatUp || _dirty.Count == 0)
                    {
                        break;
                    }

                    var name = _dirty.Min!;
                    _dirty.Remove(name);
                    foreach (var e in Evaluate(name, now, dependees))
                    {
                        yield return e;
                    }
                }

                if (NextInstant(now) is not { } next)
                {
                    yield break;
                }

                now = next;
            }
        }

        private IEnumerable<SimulationEvent> ApplyFinishes(Instant now, bool beatUp)
        {
            while (_finishes.TryPeek(out var finish, out var key) && key.At <= now)
            {
                _finishes.Dequeue();
                var mark = ++_mark;
                _states[finish.Task] = TaskBookkeeping.OnCompletion(_states[finish.Task], finish.Cron, key.At, mark, finish.Outcome);
                yield return new SimulationEvent(key.At, finish.Task, finish.Cron, SimulationEventKind.Finished, finish.Outcome);
                // While the beat is down nothing is marked: it evaluates every task when it comes back.
                if (beatUp)
                {
                    if (_waiting.Contains(finish.Task))
                    {
                        _dirty.Add(finish.Task);
                    }

                    foreach (var depender in _dependersOf[finish.Task])
                    {
                        if (_waiting.Contains(depender))
                        {
                            _dirty.Add(depender);
                        }
                    }
                }
            }
        }

        private List<SimulationEvent> Evaluate(string name, Instant now, Dictionary<string, DependeeStatus> dependees)
        {
            var task = _tasks[name];
            var state = _states[name];
            dependees.Clear();
            foreach (var edge in _edgesOf[name])
            {
                if (_states.TryGetValue(edge.Dependee, out var dependeeState))
                {
                    dependees[edge.Dependee] = new DependeeStatus(dependeeState);
                }
            }

            var decision = TaskEvaluator.Evaluate(task.Definition, state, _edgesOf[name], dependees, now);
            var events = new List<SimulationEvent>();
            foreach (var cron in decision.Skipped)
            {
                events.Add(new(now, name, cron, SimulationEventKind.Skipped, Reason: MisfireReasons.Skipped(task.Definition, cron, now)));
            }

            foreach (var cron in decision.Coalesced)
            {
                events.Add(new(now, name, cron, SimulationEventKind.Coalesced, Reason: MisfireReasons.Coalesced));
            }

            state = TaskBookkeeping.OnMisfires(state, decision);
            switch (decision)
            {
                case TaskDecision.Dispatch dispatch:
                    var mark = ++_mark;
                    _states[name] = TaskBookkeeping.OnDispatch(state, dispatch.Event, now, mark);
                    _shownWaiting.Remove(name);
                    _waiting.Remove(name);
                    var outcomes = task.Outcomes;
                    var outcome = outcomes.Count == 0 ? RunOutcome.Success : outcomes[_runCount[name] % outcomes.Count];
                    _runCount[name]++;
                    var end = now + task.RunDuration;
                    _finishes.Enqueue(new Finish(name, dispatch.Event, outcome), new FinishKey(end, name, dispatch.Event, mark));
                    events.Add(new(now, name, dispatch.Event, SimulationEventKind.Dispatched));

                    // Catch-up: the next due event may dispatch at once.
                    if (dispatch.NextEvaluationAt is { } again && again <= now)
                    {
                        _dirty.Add(name);
                    }

                    break;

                case TaskDecision.Wait wait:
                    _states[name] = state;
                    _waiting.Add(name);
                    var reason = string.Join("; ", wait.Reasons);
                    if (!_shownWaiting.TryGetValue(name, out var shown) || shown.Cron != wait.Event || shown.Reason != reason)
                    {
                        _shownWaiting[name] = (wait.Event, reason);
                        events.Add(new(now, name, wait.Event, SimulationEventKind.Waiting, Reason: reason));
                    }

                    break;

                default:
                    _states[name] = state;
                    _shownWaiting.Remove(name);
                    _waiting.Remove(name);
                    break;
            }

            _nextEvaluation[name] = decision.NextEvaluationAt;
            return events;
        }

        private bool IsDown(Instant t)
        {
            foreach (var window in _down)
            {
                if (window.From <= t && t < window.To)
                {
                    return true;
                }
            }

            return false;
        }

        private Instant? NextInstant(Instant now)
        {
            Instant? next = null;
            if (_finishes.TryPeek(out _, out var key))
            {
                next = Earliest(next, key.At);
            }

            foreach (var at in _nextEvaluation.Values)
            {
                if (at is { } t)
                {
                    // A time already passed (while the beat was down) is honoured at the window's end.
                    next = Earliest(next, t > now ? t : null);
                }
            }

            foreach (var window in _down)
            {
                if (window.To > now)
                {
                    next = Earliest(next, window.To);
                }
            }

            return next;
        }

        private static Instant? Earliest(Instant? a, Instant? b) =>
            a is null ? b : b is null ? a : a < b ? a : b;
    }
}
