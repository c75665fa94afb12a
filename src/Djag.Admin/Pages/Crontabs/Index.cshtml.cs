using Djag.Persistence;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Djag.Admin.Pages.Crontabs;

public sealed record CrontabRow(long Id, string Expression, string Timezone, int Tasks);

internal sealed class IndexModel(DjagDbContext db) : PageModel
{
    public IReadOnlyList<CrontabRow> Crontabs { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken ct)
    {
        var rows = await db.Crontabs.AsNoTracking().OrderBy(c => c.Id)
            .Select(c => new { c.Id, c.Second, c.Minute, c.Hour, c.DayOfMonth, c.MonthOfYear, c.DayOfWeek, c.Timezone, Tasks = c.Tasks.Count })
            .ToListAsync(ct);
        Crontabs = [.. rows.Select(c => new CrontabRow(c.Id, $"{c.Second} {c.Minute} {c.Hour} {c.DayOfMonth} {c.MonthOfYear} {c.DayOfWeek}", c.Timezone, c.Tasks))];
    }
}
