using Djag.Admin.Display;
using Djag.Persistence.Operations;
using Djag.Persistence.Runs;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Djag.Admin.Pages.Runs;

/// <summary>The run history, newest first, filtered by task, state, outcome and origin.</summary>
internal sealed class IndexModel(IDjagOperations operations) : PageModel
{
    public const int PageSize = 50;

    [BindProperty(SupportsGet = true)]
    public string? Task { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? State { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Outcome { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Origin { get; set; }

    [BindProperty(SupportsGet = true)]
    public int Offset { get; set; }

    public Page<RunView> Runs { get; private set; } = new([], 0, 0, PageSize);

    public Pager Pager { get; private set; } = null!;

    public static IReadOnlyList<string> States => RunStates.All;

    public static IReadOnlyList<string> Outcomes => RunOutcomes.All;

    public static IReadOnlyList<string> Origins => RunOrigins.All;

    public async Task OnGetAsync(CancellationToken ct)
    {
        Offset = Math.Max(0, Offset);
        try
        {
            Runs = await operations.ListRunsAsync(new RunQuery(Blank(Task), Blank(State), Blank(Outcome), Blank(Origin), Offset, PageSize), ct);
        }
        catch (OperationException ex)
        {
            ModelState.AddModelError("", ex.Message);
        }

        Pager = Pager.For(Request, Offset, PageSize, Runs.Total);
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
