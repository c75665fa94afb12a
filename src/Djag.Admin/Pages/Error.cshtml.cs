using System.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Djag.Admin.Pages;

/// <summary>What a user sees of a failure: the status and a request id, never an exception or a stack trace.</summary>
[IgnoreAntiforgeryToken]
[ResponseCache(Duration = 0, Location = ResponseCacheLocation.None, NoStore = true)]
internal sealed class ErrorModel : PageModel
{
    public string Title { get; private set; } = "Something went wrong";
    public string Explanation { get; private set; } = "The request failed on the server.";
    public string? RequestId { get; private set; }

    public void OnGet(int? code) => Describe(code);

    public void OnPost(int? code) => Describe(code);

    private void Describe(int? code)
    {
        (Title, Explanation) = code switch
        {
            StatusCodes.Status404NotFound => ("Not found", "There is no such page."),
            StatusCodes.Status400BadRequest => ("Bad request", "The request was not understood; reload the page and try again."),
            StatusCodes.Status429TooManyRequests => ("Too many attempts", "Wait a minute before trying again."),
            StatusCodes.Status405MethodNotAllowed => ("Not allowed", "This page does not take that kind of request."),
            null => (Title, Explanation),
            _ => ($"Error {code}", Explanation),
        };
        if (code is null)
        {
            RequestId = Activity.Current?.Id ?? HttpContext.TraceIdentifier;
        }
    }
}
