using System.Security.Claims;
using Djag.Admin.Hosting;
using Djag.Persistence.Accounts;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;

namespace Djag.Admin.Pages;

[EnableRateLimiting(AdminHostBuilderExtensions.LoginRateLimit)]
internal sealed class LoginModel(AccountService accounts) : PageModel
{
    [BindProperty]
    public string Name { get; set; } = "";

    [BindProperty]
    public string Password { get; set; } = "";

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public bool AnyUser { get; private set; } = true;

    public async Task OnGetAsync(CancellationToken ct) => AnyUser = await accounts.AnyUserAsync(ct);

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        var user = Name.Length is > 0 and <= 64 && Password.Length is > 0 and <= 1024
            ? await accounts.SignInAsync(Name, Password, ct)
            : null;
        if (user is null)
        {
            AnyUser = await accounts.AnyUserAsync(ct);
            ModelState.AddModelError("", "Unknown user name or wrong password.");
            Password = "";
            return Page();
        }

        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, user.Name), new Claim(ClaimTypes.Role, user.Role)],
            CookieAuthenticationDefaults.AuthenticationScheme);
        await HttpContext.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, new ClaimsPrincipal(identity));
        return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl : "/tasks");
    }
}
