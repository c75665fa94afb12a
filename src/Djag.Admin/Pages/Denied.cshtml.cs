using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Djag.Admin.Pages;

/// <summary>Where a read-only user lands after a refused write (the cookie handler's access-denied path).</summary>
internal sealed class DeniedModel : PageModel;
