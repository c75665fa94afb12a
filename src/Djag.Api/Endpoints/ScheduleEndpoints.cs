using System.Text;
using Djag.Persistence.Operations;
using Djag.Persistence.Schedules;
using Djag.Scheduling;
using Djag.Scheduling.ScheduleFiles;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;

namespace Djag.Api.Endpoints;

/// <summary>/schedule: the whole schedule as one schedule file, exported (GET) and applied atomically (PUT, <c>djag apply</c>).</summary>
internal static class ScheduleEndpoints
{
    private const string Yaml = "yaml";
    private const string Json = "json";
    private const string YamlMediaType = "application/yaml";
    private const string JsonMediaType = "application/json";

    public static void Map(RouteGroupBuilder api)
    {
        var schedule = api.MapGroup("/schedule").WithTags("Schedule");
        schedule.MapGet("", ExportAsync)
            .WithSummary("The whole schedule as a schedule file (format=yaml|json)")
            .Produces<string>(StatusCodes.Status200OK, YamlMediaType, JsonMediaType)
            .Refuses();
        schedule.MapPut("", ApplyAsync)
            .WithSummary("Make the schedule match the file, in one transaction (prune, dry_run)")
            .Accepts<string>(YamlMediaType, JsonMediaType, "text/yaml")
            .Writes()
            .Refuses(StatusCodes.Status413PayloadTooLarge);
    }

    /// <summary>The stored schedule as a schedule file (format yaml, the default, or json); PUT it back and nothing changes.</summary>
    private static async Task<ContentHttpResult> ExportAsync(IDjagOperations operations, string? format, CancellationToken cancellationToken)
    {
        format ??= Yaml;
        if (format is not (Yaml or Json))
        {
            throw OperationException.Invalid("format", $"'{format}' is not a schedule file format: use {Yaml} or {Json}");
        }

        var document = await operations.ExportAsync(cancellationToken);
        return format == Json
            ? TypedResults.Text(ScheduleFile.ToJson(document), JsonMediaType, Encoding.UTF8)
            : TypedResults.Text(ScheduleFile.ToYaml(document), YamlMediaType, Encoding.UTF8);
    }

    /// <summary>
    /// Makes the stored schedule match the file in the body (YAML or JSON, by Content-Type or content) in one
    /// transaction; prune also deletes what the file does not list, dry_run reports the diff and writes nothing.
    /// </summary>
    private static async Task<Ok<ApplyResult>> ApplyAsync(
        HttpRequest request, IDjagOperations operations, bool? prune, [FromQuery(Name = "dry_run")] bool? dryRun, CancellationToken cancellationToken)
    {
        string text;
        using (var reader = new StreamReader(request.Body, Encoding.UTF8))
        {
            text = await reader.ReadToEndAsync(cancellationToken);
        }

        var parsed = ScheduleFile.Parse(text, new ScheduleFileOptions(Format: FormatOf(request.ContentType) ?? ScheduleFile.DetectFormat(text)));
        if (parsed.Document is not { } document)
        {
            throw new ScheduleValidationException([.. parsed.Errors.Select(e => new FieldError(e.Path, e.Message))]);
        }

        return TypedResults.Ok(await operations.ApplyAsync(document, prune ?? false, dryRun ?? false, cancellationToken));
    }

    private static ScheduleFileFormat? FormatOf(string? contentType)
    {
        if (contentType is null)
        {
            return null;
        }

        var mediaType = contentType.Split(';')[0].Trim();
        return mediaType.EndsWith(Json, StringComparison.OrdinalIgnoreCase) ? ScheduleFileFormat.Json
            : mediaType.EndsWith(Yaml, StringComparison.OrdinalIgnoreCase) ? ScheduleFileFormat.Yaml
            : null;
    }
}
