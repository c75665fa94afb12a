using Djag.Persistence.Operations;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Djag.Admin.Pages.Runs;

/// <summary>One run in full (error and output tail), with retry for a failed or lost one.</summary>
internal sealed class DetailsModel(IDjagOperations operations) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public long Id { get; set; }

    public RunView Run { get; private set; } = null!;

    public async Task<IActionResult> OnGetAsync(CancellationToken ct) => await LoadAsync(ct) ? Page() : NotFound();

    public async Task<IActionResult> OnPostRetryAsync(CancellationToken ct)
    {
        try
        {
            var retry = await operations.RetryAsync(Id, ct);
            TempData["Message"] = $"Queued run #{retry.Id}, attempt {retry.Attempt} of the same event.";
            return Redirect($"/runs/details?id={retry.Id}");
        }
        catch (OperationException ex) when (ex.Kind != OperationErrorKind.NotFound)
        {
            ModelState.AddModelError("", ex.Message);
            return await LoadAsync(ct) ? Page() : NotFound();
        }
        catch (OperationException)
        {
            return NotFound();
        }
    }

    private async Task<bool> LoadAsync(CancellationToken ct)
    {
        try
        {
            Run = await operations.GetRunAsync(Id, ct);
            return true;
        }
        catch (OperationException ex) when (ex.Kind == OperationErrorKind.NotFound)
        {
            return false;
        }
    }
}
