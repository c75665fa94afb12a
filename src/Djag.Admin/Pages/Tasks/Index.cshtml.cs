using Djag.Admin.Display;
using Djag.Persistence;
using Djag.Persistence.Operations;
using Djag.Persistence.Schedules;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Djag.Admin.Pages.Tasks;

/// <summary>The periodic task list: the original admin's columns plus next fire time and state; bulk enable, disable, toggle.</summary>
internal sealed class IndexModel(IDjagOperations operations, DjagDbContext db, ScheduleService schedule) : PageModel
{
    public const int PageSize = 50;

    [BindProperty(SupportsGet = true)]
    public string? Search { get; set; }

    [BindProperty(SupportsGet = true)]
    public bool? Enabled { get; set; }

    [BindProperty(SupportsGet = true)]
    public bool? Running { get; set; }

    [BindProperty(SupportsGet = true)]
    public string Sort { get; set; } = "name";

    [BindProperty(SupportsGet = true)]
    public bool Desc { get; set; }

    [BindProperty(SupportsGet = true)]
    public int Offset { get; set; }

    public Page<TaskSummary> Tasks { get; private set; } = new([], 0, 0, PageSize);

    public Pager Pager { get; private set; } = null!;

    /// <summary>The list sorted by <paramref name="key"/>: ascending, or descending when it is sorted ascending by it already.</summary>
    public string SortHref(string key)
    {
        var query = new QueryBuilder(Request.Query
            .Where(q => q.Key is not ("sort" or "desc" or "offset") && !string.IsNullOrEmpty(q.Value))
            .Select(q => KeyValuePair.Create(q.Key, q.Value.ToString())));
        query.Add("sort", key);
        query.Add("desc", Sort == key && !Desc ? "true" : "false");
        return Request.Path + query.ToQueryString();
    }

    public string Arrow(string key) => Sort != key ? "" : Desc ? " ▼" : " ▲";

    public bool Filtered => !string.IsNullOrWhiteSpace(Search) || Enabled is not null || Running is not null;

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        return Page();
    }

    public async Task<IActionResult> OnPostBulkAsync(string action, string[]? selected, CancellationToken ct)
    {
        var names = (selected ?? []).Distinct(StringComparer.Ordinal).ToList();
        if (names.Count == 0 || action is not ("enable" or "disable" or "toggle"))
        {
            ModelState.AddModelError("", names.Count == 0 ? "Select at least one task." : $"'{action}' is not a bulk action.");
            await LoadAsync(ct);
            return Page();
        }

        var rows = await db.PeriodicTasks.AsNoTracking().Include(t => t.Crontab).Where(t => names.Contains(t.Name)).ToListAsync(ct);
        var edits = rows.Select(t => TaskEdit.From(t) with { Enabled = action switch { "enable" => true, "disable" => false, _ => !t.Enabled } }).ToList();
        try
        {
            var result = await schedule.ApplyAsync(new ScheduleChange { Tasks = edits }, ct);
            TempData["Message"] = $"{Verb(action)} {rows.Count} task{(rows.Count == 1 ? "" : "s")} ({result.TasksSaved} changed).";
        }
        catch (ScheduleValidationException ex)
        {
            FieldErrors.AddTo(ModelState, ex.Errors, _ => "");
            await LoadAsync(ct);
            return Page();
        }

        return Redirect(BackToList());
    }

    /// <summary>The list as the user saw it (filters, sort, page), from the same-origin referrer; else the plain list.</summary>
    private string BackToList()
    {
        var referrer = Request.GetTypedHeaders().Referer;
        return referrer is { IsAbsoluteUri: true } && referrer.Authority == Request.Host.Value && referrer.AbsolutePath == "/tasks"
            ? referrer.PathAndQuery
            : "/tasks";
    }

    private static string Verb(string action) => action switch
    {
        "enable" => "Enabled",
        "disable" => "Disabled",
        _ => "Toggled",
    };

    private async Task LoadAsync(CancellationToken ct)
    {
        if (!TaskQuery.SortKeys.Contains(Sort))
        {
            Sort = "name";
        }

        Offset = Math.Max(0, Offset);
        try
        {
            Tasks = await operations.ListTasksAsync(new TaskQuery(Search, Enabled, Running, Sort, Desc, Offset, PageSize), ct);
        }
        catch (OperationException ex)
        {
            // A search no name can match (a NUL in it): said above the empty list, as the runs page does.
            ModelState.AddModelError("", ex.Message);
        }

        Pager = Pager.For(Request, Offset, PageSize, Tasks.Total);
    }
}
