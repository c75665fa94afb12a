using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Djag.Persistence.Operations;

namespace Djag.Admin.Pages.Dag;

/// <summary>
/// The whole dependency graph, laid out by Graphviz in the browser (viz.js, WebAssembly) from
/// <see cref="DagView.ToDot"/>; each node links to its task. The table below is the same graph without script.
/// </summary>
internal sealed class IndexModel(IDjagOperations operations) : PageModel
{
    public DagView Dag { get; private set; } = new([], []);

    public async Task OnGetAsync(CancellationToken ct) => Dag = await operations.GetDagAsync(ct);

    public async Task<IActionResult> OnGetDotAsync(CancellationToken ct)
    {
        var dag = await operations.GetDagAsync(ct);
        return Content(dag.ToDot(Link), "text/vnd.graphviz; charset=utf-8");
    }

    public static string Link(DagNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return "/tasks/details?name=" + Uri.EscapeDataString(node.Name);
    }
}
