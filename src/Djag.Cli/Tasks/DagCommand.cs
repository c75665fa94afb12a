using System.CommandLine;
using Djag.Cli.Connection;
using Djag.Cli.Output;
using Djag.Persistence.Operations;
using Djag.Scheduling;

namespace Djag.Cli.Tasks;

/// <summary><c>djag dag</c>: the dependency graph, as layers for people or Graphviz DOT for pictures.</summary>
internal static class DagCommand
{
    public static Command Build(CliConsole console)
    {
        var format = OutputFormatOption.CreateChoice("text", "text (layers in dependency order) or dot (Graphviz: djag dag --format dot | dot -Tsvg).", "text", "dot");
        var command = new Command("dag", """
            Print the dependency graph. text: every task in topological order, grouped in layers (a task's layer
            is one more than its deepest dependee's), with what it depends on; future dependencies only order runs
            over time, so they are listed but do not make layers.
            """)
        {
            format,
        };
        var connection = ConnectionOptions.AddTo(command);
        command.SetAction((parseResult, cancellationToken) => CommandRunner.RunAsync(console, parseResult, connection, async operations =>
        {
            var dag = await operations.GetDagAsync(cancellationToken);
            if (parseResult.GetValue(format) == "dot")
            {
                await console.Out.WriteAsync(dag.ToDot());
            }
            else
            {
                Layers(dag).Write(console.Out, "(no tasks)");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    internal static Table Layers(DagView dag)
    {
        var edges = dag.Edges.Select(e => new DependencyEdge(e.Depender, e.Dependee, e.FutureDepends)).ToList();
        var order = DependencyGraph.TopologicalOrder(dag.Nodes.Select(n => n.Name), edges);
        var layer = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var name in order)
        {
            // Dependees come first in the order, so their layers are known.
            layer[name] = edges.Where(e => e.Depender == name && !e.FutureDepends).Select(e => layer[e.Dependee] + 1).DefaultIfEmpty(0).Max();
        }

        var nodes = dag.Nodes.ToDictionary(n => n.Name, StringComparer.Ordinal);
        var table = new Table("LAYER", "NAME", "TASK", "STATE", "DEPENDS ON");
        // OrderBy is stable: within a layer the topological order stands.
        foreach (var name in order.OrderBy(n => layer[n]))
        {
            var node = nodes.GetValueOrDefault(name);
            var dependsOn = dag.Edges.Where(e => e.Depender == name).Select(e => e.Dependee + Notes(e));
            table.Add(Text.Number(layer[name]), name, node?.Task, node?.State, string.Join(", ", dependsOn) is { Length: > 0 } list ? list : Text.None);
        }

        return table;
    }

    /// <summary>" (future, completion)" for an edge that is not a plain success dependency.</summary>
    private static string Notes(DependencyView edge)
    {
        var notes = new List<string>();
        if (edge.FutureDepends)
        {
            notes.Add("future");
        }

        if (edge.Condition != "success")
        {
            notes.Add(edge.Condition);
        }

        return notes.Count == 0 ? "" : $" ({string.Join(", ", notes)})";
    }
}
