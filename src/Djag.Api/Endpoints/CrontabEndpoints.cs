using Djag.Persistence;
using Djag.Persistence.Operations;
using Djag.Persistence.Schedules;
using Djag.Scheduling;
using Djag.Scheduling.ScheduleFiles;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace Djag.Api.Endpoints;

/// <summary>/crontabs: the shared cron schedules. Editing one reschedules every task on it.</summary>
internal static class CrontabEndpoints
{
    private const string DefaultTimeZone = "UTC";

    public static void Map(RouteGroupBuilder api)
    {
        var crontabs = api.MapGroup("/crontabs").WithTags("Crontabs");
        crontabs.MapGet("", ListAsync).WithSummary("Every crontab with the tasks on it");
        crontabs.MapGet("/{id:long}", GetAsync).WithSummary("One crontab").Refuses(StatusCodes.Status404NotFound);
        crontabs.MapPost("", CreateAsync).WithSummary("Create a crontab").Writes().Refuses();
        crontabs.MapPut("/{id:long}", UpdateAsync).WithSummary("Change a crontab; every task on it is rescheduled").Writes().Refuses(StatusCodes.Status404NotFound);
        crontabs.MapDelete("/{id:long}", DeleteAsync).WithSummary("Delete a crontab no task uses").Writes().Refuses(StatusCodes.Status404NotFound, StatusCodes.Status409Conflict);
    }

    private static async Task<Ok<List<CrontabView>>> ListAsync(DjagDbContext db, CancellationToken cancellationToken) =>
        TypedResults.Ok(await ViewsAsync(db, null, cancellationToken));

    private static async Task<Ok<CrontabView>> GetAsync(DjagDbContext db, long id, CancellationToken cancellationToken) =>
        TypedResults.Ok(await ViewAsync(db, id, cancellationToken));

    private static async Task<Created<CrontabView>> CreateAsync(
        CrontabBody body, DjagDbContext db, ScheduleService schedule, CancellationToken cancellationToken)
    {
        var id = await schedule.CreateCrontabAsync(Spec(body), cancellationToken);
        return TypedResults.Created($"{DjagApi.RoutePrefix}/crontabs/{id}", await ViewAsync(db, id, cancellationToken));
    }

    private static async Task<Ok<CrontabView>> UpdateAsync(
        long id, CrontabBody body, DjagDbContext db, ScheduleService schedule, CancellationToken cancellationToken)
    {
        var spec = Spec(body);
        await ViewAsync(db, id, cancellationToken);
        await schedule.ApplyAsync(new ScheduleChange { Crontabs = [new CrontabEdit(id, spec)] }, cancellationToken);
        return TypedResults.Ok(await ViewAsync(db, id, cancellationToken));
    }

    private static async Task<NoContent> DeleteAsync(long id, ScheduleService schedule, CancellationToken cancellationToken)
    {
        await schedule.DeleteCrontabAsync(id, cancellationToken);
        return TypedResults.NoContent();
    }

    /// <summary>The cron text as a schedule file takes it (five or six fields), checked with the zone.</summary>
    private static CrontabSpec Spec(CrontabBody body)
    {
        if (string.IsNullOrWhiteSpace(body.Cron))
        {
            throw new ScheduleValidationException([new FieldError("cron", "required")]);
        }

        if (!CronText.TryCreateSchedule(body.Cron, body.Timezone ?? DefaultTimeZone, out var schedule, out var errors))
        {
            throw new ScheduleValidationException(errors);
        }

        return new CrontabSpec(schedule!.Fields, schedule.TimeZoneId);
    }

    private static async Task<CrontabView> ViewAsync(DjagDbContext db, long id, CancellationToken cancellationToken) =>
        (await ViewsAsync(db, id, cancellationToken)).SingleOrDefault()
        ?? throw OperationException.NotFound("crontab", $"no crontab with id {id}");

    private static async Task<List<CrontabView>> ViewsAsync(DjagDbContext db, long? id, CancellationToken cancellationToken)
    {
        var crontabs = db.Crontabs.AsNoTracking();
        if (id is { } only)
        {
            crontabs = crontabs.Where(c => c.Id == only);
        }

        var rows = await crontabs.OrderBy(c => c.Id)
            .Select(c => new { Crontab = c, Tasks = c.Tasks.OrderBy(t => t.Name).Select(t => t.Name).ToList() })
            .ToListAsync(cancellationToken);
        return [.. rows.Select(r => new CrontabView(r.Crontab.Id, r.Crontab.Expression, r.Crontab.Timezone, r.Tasks))];
    }
}
