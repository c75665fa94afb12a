using Djag.Persistence;
using Djag.Persistence.Runs;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using NodaTime;

namespace Djag.Admin.Pages.Tasks;

/// <summary>How far a backfill has got: its runs (origin backfill, cron in the range) by state.</summary>
public sealed record BackfillProgress(int Total, int Queued, int Running, int Finished, int Succeeded, int Failed);

internal sealed class BackfillModel(DjagDbContext db) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string Name { get; set; } = "";

    [BindProperty(SupportsGet = true)]
    public DateTimeOffset From { get; set; }

    [BindProperty(SupportsGet = true)]
    public DateTimeOffset To { get; set; }

    public BackfillProgress Progress { get; private set; } = new(0, 0, 0, 0, 0, 0);

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        var progress = await ReadAsync(ct);
        if (progress is null)
        {
            return NotFound();
        }

        Progress = progress;
        return Page();
    }

    /// <summary>The numbers alone, polled by the page's script while the backfill runs.</summary>
    public async Task<IActionResult> OnGetProgressAsync(CancellationToken ct) =>
        await ReadAsync(ct) is { } progress ? new JsonResult(progress) : NotFound();

    private async Task<BackfillProgress?> ReadAsync(CancellationToken ct)
    {
        var taskId = await db.PeriodicTasks.AsNoTracking().Where(t => t.Name == Name).Select(t => (long?)t.Id).SingleOrDefaultAsync(ct);
        if (taskId is null)
        {
            return null;
        }

        var from = Instant.FromDateTimeOffset(From);
        var to = Instant.FromDateTimeOffset(To);
        var states = await db.Runs.AsNoTracking()
            .Where(r => r.TaskId == taskId && r.Origin == RunOrigins.Backfill && r.Cron >= from && r.Cron <= to)
            .GroupBy(r => new { r.State, r.Outcome })
            .Select(g => new { g.Key.State, g.Key.Outcome, Count = g.Count() })
            .ToListAsync(ct);
        int Count(Func<string, string?, bool> match) => states.Where(s => match(s.State, s.Outcome)).Sum(s => s.Count);
        return new BackfillProgress(
            states.Sum(s => s.Count),
            Count((s, _) => s is RunStates.Scheduled or RunStates.Dispatched),
            Count((s, _) => s == RunStates.Running),
            Count((s, _) => s is RunStates.Finished or RunStates.Skipped or RunStates.Coalesced),
            Count((_, o) => o == RunOutcomes.Success),
            Count((_, o) => o is RunOutcomes.Failure or RunOutcomes.Lost));
    }
}
