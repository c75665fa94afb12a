using Djag.Admin.Display;
using Djag.Persistence.Operations;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Djag.Admin.Pages.Runs;

/// <summary>A Gantt chart of the most recent runs across tasks.</summary>
internal sealed class TimelineModel(IDjagOperations operations, TimeProvider time) : PageModel
{
    public const int DefaultRuns = 200;

    [BindProperty(SupportsGet = true)]
    public int Runs { get; set; } = DefaultRuns;

    public Gantt Chart { get; private set; } = null!;

    public async Task OnGetAsync(CancellationToken ct)
    {
        Runs = Math.Clamp(Runs, 1, DatabaseOperations.MaxLimit);
        var page = await operations.ListRunsAsync(new RunQuery(Limit: Runs), ct);
        Chart = Gantt.Layout(page.Items, time.GetUtcNow());
    }
}
