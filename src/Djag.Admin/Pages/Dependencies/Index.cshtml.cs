using Djag.Admin.Display;
using Djag.Persistence;
using Djag.Persistence.Operations;
using Djag.Persistence.Schedules;
using Djag.Scheduling;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Djag.Admin.Pages.Dependencies;

/// <summary>Every edge; add, change (future depends, condition) and delete through the write path, which refuses cycles.</summary>
internal sealed class IndexModel(DjagDbContext db, ScheduleService schedule) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? Search { get; set; }

    [BindProperty]
    public string? Depender { get; set; }

    [BindProperty]
    public string? Dependee { get; set; }

    [BindProperty]
    public bool FutureDepends { get; set; }

    [BindProperty]
    public string? Condition { get; set; } = "success";

    public IReadOnlyList<DependencyView> Edges { get; private set; } = [];

    public IReadOnlyList<string> TaskNames { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken ct) => await LoadAsync(ct);

    /// <summary>Adds an edge, or changes the options of an existing one.</summary>
    public Task<IActionResult> OnPostSaveAsync(CancellationToken ct)
    {
        if (Condition is not ("success" or "completion"))
        {
            ModelState.AddModelError(nameof(Condition), $"'{Condition}' is not a condition: use success or completion.");
        }

        var edit = new DependencyEdit(Depender?.Trim() ?? "", Dependee?.Trim() ?? "", FutureDepends,
            Condition == "completion" ? DependencyCondition.Completion : DependencyCondition.Success);
        return ApplyAsync(new ScheduleChange { Dependencies = [edit] }, $"Saved {edit.Depender} → {edit.Dependee}.", ct);
    }

    public Task<IActionResult> OnPostDeleteAsync(CancellationToken ct)
    {
        var key = new DependencyKey(Depender ?? "", Dependee ?? "");
        return ApplyAsync(new ScheduleChange { DeletedDependencies = [key] }, $"Deleted {key.Depender} → {key.Dependee}.", ct);
    }

    private async Task<IActionResult> ApplyAsync(ScheduleChange change, string done, CancellationToken ct)
    {
        if (ModelState.IsValid)
        {
            try
            {
                await schedule.ApplyAsync(change, ct);
                TempData["Message"] = done;
                return Redirect("/dependencies");
            }
            catch (ScheduleValidationException ex)
            {
                FieldErrors.AddTo(ModelState, ex.Errors, field =>
                    field.EndsWith(".depender", StringComparison.Ordinal) ? nameof(Depender)
                    : field.EndsWith(".dependee", StringComparison.Ordinal) ? nameof(Dependee)
                    : "");
            }
        }

        await LoadAsync(ct);
        return Page();
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        var edges = db.TaskDependencies.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(Search))
        {
            var search = Search.Trim();
            edges = edges.Where(d => d.Depender.Name.Contains(search) || d.Dependee.Name.Contains(search));
        }

        var rows = await edges.OrderBy(d => d.Depender.Name).ThenBy(d => d.Dependee.Name)
            .Select(d => new { Depender = d.Depender.Name, Dependee = d.Dependee.Name, d.FutureDepends, d.Condition, d.ChangeDt })
            .ToListAsync(ct);
        Edges = [.. rows.Select(d => new DependencyView(d.Depender, d.Dependee, d.FutureDepends, DependencyConditions.Name(d.Condition), d.ChangeDt.ToDateTimeOffset()))];
        TaskNames = await db.PeriodicTasks.AsNoTracking().OrderBy(t => t.Name).Select(t => t.Name).ToListAsync(ct);
    }
}
