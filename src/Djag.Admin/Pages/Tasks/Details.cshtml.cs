using System.Globalization;
using Djag.Admin.Display;
using Djag.Persistence.Operations;
using Djag.Persistence.Schedules;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Djag.Admin.Pages.Tasks;

/// <summary>One task: its configuration, why it is waiting, its recent runs, and the operate buttons.</summary>
internal sealed class DetailsModel(IDjagOperations operations) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string Name { get; set; } = "";

    [BindProperty]
    public string? From { get; set; }

    [BindProperty]
    public string? To { get; set; }

    public TaskDetail Task { get; private set; } = null!;

    public WhyView Why { get; private set; } = null!;

    public IReadOnlyList<RunView> Runs { get; private set; } = [];

    public int RunTotal { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken ct) => await LoadAsync(ct) ? Page() : NotFound();

    public Task<IActionResult> OnPostRunNowAsync(CancellationToken ct) => OperateAsync(async () =>
    {
        var run = await operations.RunNowAsync(Name, ct);
        return $"Queued run #{run.Id} of {Name}; the beat dispatches it within a second.";
    }, ct);

    public Task<IActionResult> OnPostPauseAsync(CancellationToken ct) => OperateAsync(async () =>
    {
        await operations.PauseAsync(Name, ct);
        return $"Paused {Name}.";
    }, ct);

    public Task<IActionResult> OnPostResumeAsync(CancellationToken ct) => OperateAsync(async () =>
    {
        await operations.ResumeAsync(Name, ct);
        return $"Resumed {Name}; missed events follow its misfire policy.";
    }, ct);

    public async Task<IActionResult> OnPostBackfillAsync(CancellationToken ct)
    {
        var from = ParseUtc(From, nameof(From));
        var to = ParseUtc(To, nameof(To));
        if (from is null || to is null)
        {
            return await LoadAsync(ct) ? Page() : NotFound();
        }

        try
        {
            var result = await operations.BackfillAsync(Name, from.Value, to.Value, ct);
            TempData["Message"] = $"Backfill queued {result.RunIds.Count} run(s); {result.AlreadyRan} event(s) had run already"
                + (result.LeftToSchedule > 0 ? $"; {result.LeftToSchedule} event(s) in the range are still ahead of the schedule and run as scheduled." : ".");
        }
        catch (OperationException ex)
        {
            FieldErrors.AddTo(ModelState, ex, field => field switch { "from" => nameof(From), "to" => nameof(To), _ => "" });
            return await LoadAsync(ct) ? Page() : NotFound();
        }

        return Redirect($"/tasks/backfill?name={Uri.EscapeDataString(Name)}&from={Uri.EscapeDataString(Fmt.Iso(from))}&to={Uri.EscapeDataString(Fmt.Iso(to))}");
    }

    private async Task<IActionResult> OperateAsync(Func<Task<string>> operate, CancellationToken ct)
    {
        try
        {
            TempData["Message"] = await operate();
        }
        catch (OperationException ex)
        {
            ModelState.AddModelError("", ex.Message);
            return await LoadAsync(ct) ? Page() : NotFound();
        }
        catch (ScheduleValidationException ex)
        {
            FieldErrors.AddTo(ModelState, ex.Errors, _ => "");
            return await LoadAsync(ct) ? Page() : NotFound();
        }

        return Redirect($"/tasks/details?name={Uri.EscapeDataString(Name)}");
    }

    private DateTimeOffset? ParseUtc(string? value, string key)
    {
        if (DateTime.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var parsed))
        {
            return new DateTimeOffset(DateTime.SpecifyKind(parsed, DateTimeKind.Utc));
        }

        ModelState.AddModelError(key, $"'{value}' is not a date and time (UTC).");
        return null;
    }

    private async Task<bool> LoadAsync(CancellationToken ct)
    {
        try
        {
            Task = await operations.GetTaskAsync(Name, ct);
        }
        catch (OperationException ex) when (ex.Kind == OperationErrorKind.NotFound)
        {
            return false;
        }

        Why = await operations.WhyAsync(Name, ct);
        var runs = await operations.ListRunsAsync(new RunQuery(Task: Name, Limit: 20), ct);
        (Runs, RunTotal) = (runs.Items, runs.Total);
        return true;
    }
}
