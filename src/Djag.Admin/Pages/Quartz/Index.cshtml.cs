using Djag.Admin.Data;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Djag.Admin.Pages.Quartz;

/// <summary>The triggers as the Quartz job store holds them, and the beats checked in to its cluster.</summary>
internal sealed class IndexModel(QuartzTriggers quartz) : PageModel
{
    public IReadOnlyList<QuartzTrigger> Triggers { get; private set; } = [];

    public IReadOnlyList<QuartzInstance> Instances { get; private set; } = [];

    /// <summary>False before a beat has created the <c>qrtz_</c> tables.</summary>
    public bool StoreExists { get; private set; }

    public async Task OnGetAsync(CancellationToken ct)
    {
        if (await quartz.ReadAsync(ct) is { } store)
        {
            (Triggers, Instances, StoreExists) = (store.Triggers, store.Instances, true);
        }
    }
}
