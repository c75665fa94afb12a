using Djag.Admin.Data;
using Djag.Admin.Display;
using Djag.Persistence.Operations;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Djag.Admin.Pages.Audits;

/// <summary>Consumed user actions, read-only and searchable, as in the original.</summary>
internal sealed class IndexModel(UserActionStore store) : PageModel
{
    public const int PageSize = 50;

    [BindProperty(SupportsGet = true)]
    public string? Search { get; set; }

    [BindProperty(SupportsGet = true)]
    public int Offset { get; set; }

    public Page<AuditRow> Audits { get; private set; } = new([], 0, 0, PageSize);

    public Pager Pager { get; private set; } = null!;

    public async Task OnGetAsync(CancellationToken ct)
    {
        Offset = Math.Max(0, Offset);
        Audits = await store.ListAuditsAsync(Search, Offset, PageSize, ct);
        Pager = Pager.For(Request, Offset, PageSize, Audits.Total);
    }
}
