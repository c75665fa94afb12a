using CsCheck;

namespace Djag.Scheduling.Tests.Dependencies;

public sealed class DependencyGraphTests
{
    [Fact]
    public void Acyclic_graph_has_no_cycle()
    {
        Assert.Null(DependencyGraph.FindCycle([new("transform", "extract"), new("load", "transform"), new("load", "extract")]));
        Assert.Null(DependencyGraph.FindCycle([]));
    }

    [Fact]
    public void Cycle_is_named_in_edge_order_closing_on_its_first_name()
    {
        DependencyEdge[] edges = [new("transform", "extract"), new("load", "transform"), new("transform", "load")];

        var cycle = DependencyGraph.FindCycle(edges);

        Assert.Equal(["load", "transform", "load"], cycle);
        Assert.Equal("load -> transform -> load", DependencyGraph.Render(cycle!));
    }

    [Fact]
    public void Longer_cycle_is_rotated_to_its_smallest_name()
    {
        var cycle = DependencyGraph.FindCycle([new("c", "a"), new("b", "c"), new("a", "b"), new("z", "c")]);

        Assert.Equal(["a", "b", "c", "a"], cycle);
    }

    [Fact]
    public void Non_future_self_edge_is_a_cycle()
    {
        Assert.Equal(["a", "a"], DependencyGraph.FindCycle([new("a", "a")]));
    }

    [Fact]
    public void Future_edges_do_not_count()
    {
        DependencyEdge[] edges = [new("a", "a", FutureDepends: true), new("a", "b"), new("b", "a", FutureDepends: true)];

        Assert.Null(DependencyGraph.FindCycle(edges));
        Assert.Equal(["b", "a"], DependencyGraph.TopologicalOrder(["a", "b"], edges));
    }

    [Fact]
    public void Topological_order_puts_dependees_first_and_breaks_ties_by_name()
    {
        DependencyEdge[] edges = [new("report", "left"), new("report", "right"), new("left", "source"), new("right", "source")];

        Assert.Equal(
            ["lonely", "source", "left", "right", "report"],
            DependencyGraph.TopologicalOrder(["report", "right", "left", "source", "lonely"], edges));
    }

    [Fact]
    public void Topological_order_of_a_cyclic_graph_throws_naming_the_cycle()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => DependencyGraph.TopologicalOrder(["a"], [new("a", "b"), new("b", "a")]));
        Assert.Contains("a -> b -> a", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>Nodes 0..n-1 get shuffled names; non-future edges only go from a higher to a lower node, so the graph is acyclic.
    /// Future edges go anywhere, self loops included.</summary>
    private static readonly Gen<(string[] Names, List<DependencyEdge> Edges)> Dags =
        Gen.Int[1, 9].SelectMany(n => Gen.Select(
            Gen.Int[0, 999_999].ArrayUnique[n],
            Gen.Int[0, 9].Array[n * n],
            (keys, links) =>
            {
                var names = keys.Select(k => $"t{k:D6}").ToArray();
                var edges = new List<DependencyEdge>();
                for (var i = 0; i < n; i++)
                {
                    for (var j = 0; j < n; j++)
                    {
                        var link = links[(i * n) + j];
                        if (link >= 7)
                        {
                            edges.Add(new DependencyEdge(names[i], names[j], FutureDepends: true));
                        }
                        else if (link >= 4 && i > j)
                        {
                            edges.Add(new DependencyEdge(names[i], names[j]));
                        }
                    }
                }

                return (names, edges);
            }));

    [Fact]
    public void Property_topological_order_respects_every_edge()
    {
        Dags.Sample(dag =>
        {
            var order = DependencyGraph.TopologicalOrder(dag.Names, dag.Edges);

            Assert.Equal(dag.Names.Order(StringComparer.Ordinal), order.Order(StringComparer.Ordinal));
            var position = order.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i);
            foreach (var edge in dag.Edges.Where(e => !e.FutureDepends))
            {
                Assert.True(position[edge.Dependee] < position[edge.Depender], $"{edge} out of order in {string.Join(",", order)}");
            }

            Assert.Null(DependencyGraph.FindCycle(dag.Edges));
        }, iter: 300);
    }

    [Fact]
    public void Property_every_cycle_is_rejected_and_named()
    {
        var withCycle = Dags.SelectMany(dag => Gen.Int[0, dag.Names.Length - 1].ArrayUnique[1, dag.Names.Length].Select(path =>
        {
            // Close a cycle through the chosen nodes, in the chosen order.
            var edges = new List<DependencyEdge>(dag.Edges);
            for (var i = 0; i < path.Length; i++)
            {
                edges.Add(new DependencyEdge(dag.Names[path[i]], dag.Names[path[(i + 1) % path.Length]]));
            }

            return (dag.Names, Edges: edges);
        }));

        withCycle.Sample(graph =>
        {
            var cycle = DependencyGraph.FindCycle(graph.Edges);

            Assert.NotNull(cycle);
            Assert.True(cycle.Count >= 2);
            Assert.Equal(cycle[0], cycle[^1]);
            var hard = graph.Edges.Where(e => !e.FutureDepends).Select(e => (e.Depender, e.Dependee)).ToHashSet();
            for (var i = 0; i + 1 < cycle.Count; i++)
            {
                Assert.Contains((cycle[i], cycle[i + 1]), hard);
            }

            Assert.Throws<InvalidOperationException>(() => DependencyGraph.TopologicalOrder(graph.Names, graph.Edges));
        }, iter: 300);
    }
}
