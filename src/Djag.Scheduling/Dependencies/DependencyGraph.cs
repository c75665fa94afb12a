namespace Djag.Scheduling;

/// <summary>
/// Structure of the dependency graph. Edges point depender -> dependee; future_depends edges only order
/// runs over time and may close loops (a task may future-depend on itself), so they are left out here.
/// </summary>
public static class DependencyGraph
{
    /// <summary>
    /// Returns null when the graph without future edges is acyclic; otherwise one cycle, following the
    /// edges depender -> dependee, closing on its first name (e.g. ["load", "transform", "load"], rendered
    /// by <see cref="Render"/> as "load -> transform -> load"). A non-future self edge is ["a", "a"].
    /// The result is deterministic: the search visits names in ordinal order, and the cycle found is
    /// rotated to start at its ordinally smallest name.
    /// </summary>
    public static IReadOnlyList<string>? FindCycle(IEnumerable<DependencyEdge> edges)
    {
        var graph = Adjacency(edges);
        var state = new Dictionary<string, VisitState>(StringComparer.Ordinal);
        foreach (var start in graph.Keys.Order(StringComparer.Ordinal))
        {
            if (state.ContainsKey(start))
            {
                continue;
            }

            var cycle = Search(start, graph, state);
            if (cycle is not null)
            {
                return Canonical(cycle);
            }
        }

        return null;
    }

    /// <summary>"a -> b -> a".</summary>
    public static string Render(IReadOnlyList<string> cycle) => string.Join(" -> ", cycle);

    /// <summary>
    /// Every name of <paramref name="tasks"/> and of the edges, dependees before dependers, ignoring future
    /// edges; among names free at the same step the ordinally smallest comes first.
    /// </summary>
    /// <exception cref="InvalidOperationException">The graph without future edges has a cycle (named in the message).</exception>
    public static IReadOnlyList<string> TopologicalOrder(IEnumerable<string> tasks, IEnumerable<DependencyEdge> edges)
    {
        ArgumentNullException.ThrowIfNull(tasks);
        var edgeList = edges.Where(e => !e.FutureDepends).ToList();
        var names = new HashSet<string>(tasks, StringComparer.Ordinal);
        var dependers = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        var pending = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var edge in edgeList)
        {
            names.Add(edge.Depender);
            names.Add(edge.Dependee);
        }

        foreach (var name in names)
        {
            dependers[name] = new HashSet<string>(StringComparer.Ordinal);
            pending[name] = 0;
        }

        foreach (var edge in edgeList)
        {
            if (dependers[edge.Dependee].Add(edge.Depender))
            {
                pending[edge.Depender]++;
            }
        }

        var ready = new SortedSet<string>(names.Where(n => pending[n] == 0), StringComparer.Ordinal);
        var order = new List<string>(names.Count);
        while (ready.Count > 0)
        {
            var next = ready.Min!;
            ready.Remove(next);
            order.Add(next);
            foreach (var depender in dependers[next])
            {
                if (--pending[depender] == 0)
                {
                    ready.Add(depender);
                }
            }
        }

        if (order.Count < names.Count)
        {
            var cycle = FindCycle(edgeList);
            throw new InvalidOperationException($"The dependency graph has a cycle: {(cycle is null ? "?" : Render(cycle))}");
        }

        return order;
    }

    private enum VisitState
    {
        OnPath,
        Done,
    }

    private static SortedDictionary<string, SortedSet<string>> Adjacency(IEnumerable<DependencyEdge> edges)
    {
        ArgumentNullException.ThrowIfNull(edges);
        var graph = new SortedDictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        foreach (var edge in edges)
        {
            if (edge.FutureDepends)
            {
                continue;
            }

            Targets(graph, edge.Depender).Add(edge.Dependee);
            Targets(graph, edge.Dependee);
        }

        return graph;

        static SortedSet<string> Targets(SortedDictionary<string, SortedSet<string>> graph, string name)
        {
            if (!graph.TryGetValue(name, out var set))
            {
                set = new SortedSet<string>(StringComparer.Ordinal);
                graph[name] = set;
            }

            return set;
        }
    }

    // Iterative DFS: a long chain of tasks must not overflow the stack.
    private static List<string>? Search(string start, SortedDictionary<string, SortedSet<string>> graph, Dictionary<string, VisitState> state)
    {
        var path = new List<string>();
        var iterators = new Stack<IEnumerator<string>>();
        state[start] = VisitState.OnPath;
        path.Add(start);
        iterators.Push(graph[start].GetEnumerator());
        while (iterators.Count > 0)
        {
            var it = iterators.Peek();
            if (!it.MoveNext())
            {
                iterators.Pop();
                state[path[^1]] = VisitState.Done;
                path.RemoveAt(path.Count - 1);
                continue;
            }

            var next = it.Current;
            if (state.TryGetValue(next, out var seen))
            {
                if (seen == VisitState.OnPath)
                {
                    var from = path.IndexOf(next);
                    return path.GetRange(from, path.Count - from);
                }

                continue;
            }

            state[next] = VisitState.OnPath;
            path.Add(next);
            iterators.Push(graph[next].GetEnumerator());
        }

        return null;
    }

    private static List<string> Canonical(List<string> cycle)
    {
        var smallest = 0;
        for (var i = 1; i < cycle.Count; i++)
        {
            if (string.CompareOrdinal(cycle[i], cycle[smallest]) < 0)
            {
                smallest = i;
            }
        }

        var rotated = new List<string>(cycle.Count + 1);
        for (var i = 0; i < cycle.Count; i++)
        {
            rotated.Add(cycle[(smallest + i) % cycle.Count]);
        }

        rotated.Add(rotated[0]);
        return rotated;
    }
}
