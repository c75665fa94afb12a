using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Djag.Admin.Pages;

/// <summary>The task list is the home page, as the periodic tasks were in the original's admin.</summary>
internal sealed class IndexModel : PageModel
{
    public IActionResult OnGet() => RedirectToPage("/Tasks/Index");
}
