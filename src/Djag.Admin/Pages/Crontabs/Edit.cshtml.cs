using System.Globalization;
using Djag.Admin.Display;
using Djag.Persistence;
using Djag.Persistence.Schedules;
using Djag.Scheduling;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using NodaTime;

namespace Djag.Admin.Pages.Crontabs;

/// <summary>The crontab form's fields: six cron fields, seconds first, and an IANA time zone.</summary>
public sealed class CrontabForm
{
    public long? Id { get; set; }
    public string? Second { get; set; } = "0";
    public string? Minute { get; set; } = "*";
    public string? Hour { get; set; } = "*";
    public string? DayOfMonth { get; set; } = "*";
    public string? MonthOfYear { get; set; } = "*";
    public string? DayOfWeek { get; set; } = "*";
    public string? Timezone { get; set; } = "UTC";

    public CrontabSpec Spec() => new(
        new CronFields(Second ?? "", Minute ?? "", Hour ?? "", DayOfMonth ?? "", MonthOfYear ?? "", DayOfWeek ?? ""), Timezone?.Trim() ?? "");
}

/// <summary>Creates or edits a crontab, with a preview of its next fire times that follows the form as it is typed.</summary>
internal sealed class EditModel(DjagDbContext db, ScheduleService schedule, TimeProvider time) : PageModel
{
    [BindProperty]
    public CrontabForm Input { get; set; } = new();

    /// <summary>Where the preview starts (UTC, a <c>datetime-local</c> value); empty: now.</summary>
    [BindProperty(SupportsGet = true)]
    public string? PreviewFrom { get; set; }

    public CronPreview Preview { get; private set; } = null!;

    public IReadOnlyList<string> TaskNames { get; private set; } = [];

    public static IEnumerable<string> TimeZones => DateTimeZoneProviders.Tzdb.Ids;

    public async Task<IActionResult> OnGetAsync(long? id, CancellationToken ct)
    {
        if (id is not null)
        {
            var row = await db.Crontabs.AsNoTracking().SingleOrDefaultAsync(c => c.Id == id, ct);
            if (row is null)
            {
                return NotFound();
            }

            Input = new CrontabForm
            {
                Id = row.Id, Second = row.Second, Minute = row.Minute, Hour = row.Hour, DayOfMonth = row.DayOfMonth,
                MonthOfYear = row.MonthOfYear, DayOfWeek = row.DayOfWeek, Timezone = row.Timezone,
            };
        }

        await LoadAsync(ct);
        return Page();
    }

    /// <summary>The preview alone (an HTML fragment), fetched by the page's script as the fields change.</summary>
    public IActionResult OnGetPreview(string? second, string? minute, string? hour, string? dayOfMonth, string? monthOfYear, string? dayOfWeek, string? timezone)
    {
        var form = new CrontabForm
        {
            Second = second, Minute = minute, Hour = hour, DayOfMonth = dayOfMonth, MonthOfYear = monthOfYear, DayOfWeek = dayOfWeek, Timezone = timezone,
        };
        return Partial("_CronPreview", ComputePreview(form));
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        var spec = Input.Spec();
        try
        {
            if (Input.Id is { } id)
            {
                await schedule.ApplyAsync(new ScheduleChange { Crontabs = [new CrontabEdit(id, spec)] }, ct);
            }
            else
            {
                Input.Id = await schedule.CreateCrontabAsync(spec, ct);
            }
        }
        catch (ScheduleValidationException ex)
        {
            FieldErrors.AddTo(ModelState, ex.Errors, KeyOf);
            await LoadAsync(ct);
            return Page();
        }

        TempData["Message"] = $"Saved crontab {Input.Id}: {spec.Fields.Expression} ({spec.Timezone}).";
        return Redirect("/crontabs");
    }

    /// <summary>"crontabs[3].minute" or "crontab.minute" → "Input.Minute".</summary>
    private static string KeyOf(string field)
    {
        var name = field[(field.LastIndexOf('.') + 1)..];
        return FieldErrors.CronFieldNames.Contains(name) ? "Input." + FieldErrors.Pascal(name) : "";
    }

    private CronPreview ComputePreview(CrontabForm form)
    {
        var from = Instant.FromDateTimeOffset(time.GetUtcNow());
        if (DateTime.TryParse(PreviewFrom, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var parsed))
        {
            from = Instant.FromDateTimeUtc(DateTime.SpecifyKind(parsed, DateTimeKind.Utc));
        }

        var spec = form.Spec();
        return CronPreview.Compute(spec.Fields, spec.Timezone, from);
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        Preview = ComputePreview(Input);
        TaskNames = Input.Id is { } id
            ? await db.PeriodicTasks.AsNoTracking().Where(t => t.CrontabId == id).OrderBy(t => t.Name).Select(t => t.Name).ToListAsync(ct)
            : [];
    }
}
