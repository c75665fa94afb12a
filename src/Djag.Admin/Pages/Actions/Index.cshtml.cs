using Djag.Admin.Data;
using Djag.Admin.Display;
using Djag.Persistence.Operations;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Djag.Admin.Pages.Actions;

/// <summary>Pending user actions; users add UNCLASSIFIED ones with a JSON payload, internal ones are read-only.</summary>
internal sealed class IndexModel(UserActionStore store) : PageModel
{
    public const int PageSize = 50;

    [BindProperty(SupportsGet = true)]
    public string? Search { get; set; }

    [BindProperty(SupportsGet = true)]
    public int Offset { get; set; }

    [BindProperty]
    public string? Payload { get; set; } = "{}";

    public Page<UserActionRow> Actions { get; private set; } = new([], 0, 0, PageSize);

    public Pager Pager { get; private set; } = null!;

    public async Task OnGetAsync(CancellationToken ct) => await LoadAsync(ct);

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        try
        {
            var id = await store.AddUnclassifiedAsync(Payload ?? "", ct);
            TempData["Message"] = $"Added user action #{id} (UNCLASSIFIED).";
            return Redirect("/actions");
        }
        catch (OperationException ex)
        {
            FieldErrors.AddTo(ModelState, ex, _ => nameof(Payload));
            await LoadAsync(ct);
            return Page();
        }
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        Offset = Math.Max(0, Offset);
        Actions = await store.ListActionsAsync(Search, Offset, PageSize, ct);
        Pager = Pager.For(Request, Offset, PageSize, Actions.Total);
    }
}
