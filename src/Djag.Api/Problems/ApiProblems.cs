using System.Text.Json;
using System.Text.RegularExpressions;
using Djag.Persistence.Operations;
using Djag.Persistence.Schedules;
using Djag.Scheduling;
using Djag.Scheduling.ScheduleFiles;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using Npgsql;

namespace Djag.Api.Problems;

/// <summary>
/// The API's one mapping from a refusal to an RFC 7807 answer: <c>status</c>, <c>title</c>, <c>detail</c>
/// and the extensions <c>kind</c> and <c>errors</c> (<c>[{field, message}]</c>). Endpoints refuse by
/// throwing what the operations layer throws; <see cref="HandleErrors"/> turns that into the answer.
/// </summary>
internal static partial class ApiProblems
{
    public const string Invalid = "invalid";
    public const string NotFound = "not_found";
    public const string Conflict = "conflict";
    public const string Unauthorized = "unauthorized";
    public const string Forbidden = "forbidden";

    private const string BodyTooLarge = "the request body is too large for the API (DjagApiOptions.MaxRequestBodySize)";

    /// <summary>The answer to <paramref name="exception"/>, or null for a failure that is not the caller's (a 500).</summary>
    public static ProblemDetails? FromException(Exception exception) => exception switch
    {
        OperationException e => Create(StatusOf(e.Kind), KindOf(e.Kind), e.Message, [new FieldError(e.Field, e.Message)]),
        ScheduleValidationException e => Create(StatusCodes.Status400BadRequest, Invalid, $"nothing was saved: {e.Errors.Count} problem(s) in the request", e.Errors),
        BadHttpRequestException e => FromBadRequest(e),
        _ when DataException(exception) is { } e => Create(StatusCodes.Status400BadRequest, Invalid,
            $"nothing was saved: the database refused a value ({e.MessageText})", [new FieldError("", e.MessageText)]),
        _ => null,
    };

    /// <summary>
    /// A PostgreSQL data exception (SQLSTATE class 22: a value out of range, too long, not storable) under
    /// <paramref name="exception"/>: the input was bad, and the transaction that met it saved nothing. The checks of
    /// the write path name the field before it comes to this; this is the net under them.
    /// </summary>
    private static PostgresException? DataException(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is PostgresException { SqlState: var state } postgres && state.StartsWith("22", StringComparison.Ordinal))
            {
                return postgres;
            }
        }

        return null;
    }

    /// <summary>
    /// The first route value or query parameter holding text no task, run or setting can contain (a NUL, a lone
    /// surrogate), which PostgreSQL would refuse as a parameter: refused before the endpoint runs, naming it.
    /// </summary>
    private static ProblemDetails? FromUnstorableParameter(HttpContext context)
    {
        foreach (var (name, value) in context.Request.RouteValues)
        {
            if (value is string text && StorableText.Problem(text) is { } problem)
            {
                return Create(StatusCodes.Status400BadRequest, Invalid, $"{name}: {problem}", [new FieldError(name, problem)]);
            }
        }

        foreach (var (name, values) in context.Request.Query)
        {
            var problem = StorableText.Problem(name) is { } inName ? $"the parameter name {inName}"
                : values.Select(v => v is null ? null : StorableText.Problem(v)).FirstOrDefault(p => p is not null);
            if (problem is not null)
            {
                return Create(StatusCodes.Status400BadRequest, Invalid, $"{name}: {problem}", [new FieldError(name, problem)]);
            }
        }

        return null;
    }

    public static ProblemDetails Create(int status, string kind, string detail, IReadOnlyList<FieldError> errors)
    {
        var problem = new ProblemDetails { Status = status, Title = ReasonPhrases.GetReasonPhrase(status), Detail = detail };
        problem.Extensions["kind"] = kind;
        problem.Extensions["errors"] = errors;
        return problem;
    }

    /// <summary>Writes through the host's problem details service when it has one (AddDjagApi registers it).</summary>
    public static Task WriteAsync(HttpContext context, ProblemDetails problem) => TypedResults.Problem(problem).ExecuteAsync(context);

    /// <summary>
    /// A finally-convention of the API's route group: wraps each endpoint's request delegate, so the refusals of
    /// parameter and body binding (thrown as <see cref="BadHttpRequestException"/> once
    /// <c>RouteHandlerOptions.ThrowOnBadRequest</c> is set, before any endpoint filter runs) and those of the
    /// handlers get the same answer. Routing answers a JSON endpoint's request of another media type with a bare
    /// 415 before any endpoint runs; a host that wants a body there too uses <c>UseStatusCodePages</c>.
    /// </summary>
    public static void HandleErrors(EndpointBuilder endpoint)
    {
        var inner = endpoint.RequestDelegate
            ?? throw new InvalidOperationException($"endpoint {endpoint.DisplayName} has no request delegate to wrap");
        endpoint.RequestDelegate = async context =>
        {
            if (FromUnstorableParameter(context) is { } refused)
            {
                await WriteAsync(context, refused);
                return;
            }

            try
            {
                await inner(context);
            }
            catch (Exception ex) when (!context.Response.HasStarted && FromException(ex) is { } problem)
            {
                await WriteAsync(context, problem);
                return;
            }

            // Minimal APIs swallow a failed read of a JSON body (BadHttpRequestException is an IOException) and
            // answer with the bare status the server set: 413 for a body above the limit.
            if (!context.Response.HasStarted && context.Response.StatusCode >= StatusCodes.Status400BadRequest && context.Response.ContentType is null)
            {
                await WriteAsync(context, Bare(context.Response.StatusCode));
            }
        };
    }

    private static ProblemDetails Bare(int status) => status == StatusCodes.Status413PayloadTooLarge
        ? Create(status, Invalid, BodyTooLarge, [new FieldError("body", BodyTooLarge)])
        : Create(status, Invalid, ReasonPhrases.GetReasonPhrase(status), []);

    private static ProblemDetails FromBadRequest(BadHttpRequestException e)
    {
        if (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return Create(e.StatusCode, Invalid, e.Message, [new FieldError("body", e.Message)]);
        }

        if (e.InnerException is JsonException json)
        {
            var field = FieldOfPath(json.Path);
            var message = Cut(json.Message);
            return Create(e.StatusCode, Invalid, field.Length == 0 ? $"the body is not valid: {message}" : $"{field}: {message}", [new FieldError(field, message)]);
        }

        // The framework names the parameter only in its message ("Failed to bind parameter \"int? offset\" from
        // \"abc\"."); the query key is its snake_case form (dry_run for dryRun).
        var match = ParameterPattern().Match(e.Message);
        var parameter = match.Success ? JsonNamingPolicy.SnakeCaseLower.ConvertName(match.Groups["name"].Value) : "";
        return Create(e.StatusCode, Invalid, e.Message, [new FieldError(parameter, e.Message)]);
    }

    /// <summary>
    /// "$.grace_period" is the field grace_period, "$['odd name']" the field odd name, "$.args[0]" args[0]; "$" is the
    /// body as a whole.
    /// </summary>
    private static string FieldOfPath(string? path)
    {
        if (path is null || !path.StartsWith('$'))
        {
            return path ?? "";
        }

        var field = new System.Text.StringBuilder();
        var rest = path.AsSpan(1);
        while (rest.Length > 0)
        {
            if (rest.StartsWith("['") && rest.IndexOf("']") is > 1 and var end)
            {
                field.Append(field.Length == 0 ? "" : ".").Append(rest[2..end].ToString().Replace("\\'", "'", StringComparison.Ordinal));
                rest = rest[(end + 2)..];
            }
            else if (rest[0] == '.')
            {
                var next = rest[1..].IndexOfAny('.', '[');
                var name = next < 0 ? rest[1..] : rest[1..(next + 1)];
                field.Append(field.Length == 0 ? "" : ".").Append(name);
                rest = next < 0 ? [] : rest[(next + 1)..];
            }
            else if (rest[0] == '[' && rest.IndexOf(']') is > 0 and var close)
            {
                field.Append(rest[..(close + 1)]);
                rest = rest[(close + 1)..];
            }
            else
            {
                field.Append(rest);
                break;
            }
        }

        return field.ToString();
    }

    /// <summary>System.Text.Json appends the path and position to its messages; the path is the field already.</summary>
    private static string Cut(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut < 0)
        {
            cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        }

        message = cut < 0 ? message : message[..cut];
        return message.StartsWith("The JSON value could not be converted", StringComparison.Ordinal)
            ? "the value has the wrong type for this field (see /api/v1/openapi.json)"
            : message;
    }

    private static int StatusOf(OperationErrorKind kind) => kind switch
    {
        OperationErrorKind.NotFound => StatusCodes.Status404NotFound,
        OperationErrorKind.Conflict => StatusCodes.Status409Conflict,
        _ => StatusCodes.Status400BadRequest,
    };

    private static string KindOf(OperationErrorKind kind) => kind switch
    {
        OperationErrorKind.NotFound => NotFound,
        OperationErrorKind.Conflict => Conflict,
        _ => Invalid,
    };

    [GeneratedRegex("parameter \"(?:[^\"]* )?(?<name>[A-Za-z_][A-Za-z0-9_]*)\"", RegexOptions.CultureInvariant)]
    private static partial Regex ParameterPattern();
}
