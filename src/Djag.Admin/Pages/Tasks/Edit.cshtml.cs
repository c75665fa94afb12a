using System.Globalization;
using Djag.Admin.Display;
using Djag.Persistence;
using Djag.Persistence.Operations;
using Djag.Persistence.Schedules;
using Djag.Scheduling;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using NodaTime;

namespace Djag.Admin.Pages.Tasks;

/// <summary>Creates, edits and deletes a periodic task with its dependency rows, in one change through the write path.</summary>
internal sealed class EditModel(DjagDbContext db, ScheduleService schedule) : PageModel
{
    public const string DependenciesKey = "Dependencies";

    [BindProperty]
    public TaskForm Input { get; set; } = new();

    [BindProperty]
    public List<DependencyRow> DependsOn { get; set; } = [];

    [BindProperty]
    public List<DependencyRow> DependedBy { get; set; } = [];

    public IReadOnlyList<Crontab> Crontabs { get; private set; } = [];

    public IReadOnlyList<string> TaskNames { get; private set; } = [];

    /// <summary>The stored name of the task being edited; null for a new task.</summary>
    public string? StoredName { get; private set; }

    public async Task<IActionResult> OnGetAsync(string? name, long? crontab, CancellationToken ct)
    {
        if (name is not null)
        {
            var task = await db.PeriodicTasks.AsNoTracking().Include(t => t.Crontab).SingleOrDefaultAsync(t => t.Name == name, ct);
            if (task is null)
            {
                return NotFound();
            }

            Input = FormOf(task);
            var edges = await db.TaskDependencies.AsNoTracking()
                .Where(d => d.DependerId == task.Id || d.DependeeId == task.Id)
                .Select(d => new { Depender = d.Depender.Name, Dependee = d.Dependee.Name, d.FutureDepends, d.Condition })
                .OrderBy(d => d.Depender).ThenBy(d => d.Dependee)
                .ToListAsync(ct);
            DependsOn = [.. edges.Where(e => e.Depender == task.Name).Select(e => Row(e.Dependee, e.FutureDepends, e.Condition))];
            DependedBy = [.. edges.Where(e => e.Dependee == task.Name && e.Depender != task.Name).Select(e => Row(e.Depender, e.FutureDepends, e.Condition))];
        }
        else
        {
            Input.CrontabId = crontab;
        }

        await LoadChoicesAsync(ct);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        var name = Input.Name?.Trim() ?? "";
        var crontab = Input.CrontabId is { } id ? await db.Crontabs.AsNoTracking().SingleOrDefaultAsync(c => c.Id == id, ct) : null;
        if (crontab is null)
        {
            ModelState.AddModelError("Input.CrontabId", Input.CrontabId is null ? "Choose a crontab." : $"There is no crontab {Input.CrontabId}.");
        }

        Instant? cronBase = null;
        if (!string.IsNullOrWhiteSpace(Input.CronBase))
        {
            if (DateTime.TryParse(Input.CronBase, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var parsed))
            {
                cronBase = Instant.FromDateTimeUtc(DateTime.SpecifyKind(parsed, DateTimeKind.Utc));
            }
            else
            {
                ModelState.AddModelError("Input.CronBase", $"'{Input.CronBase}' is not a date and time (UTC), e.g. 2026-03-01T12:00:00.");
            }
        }

        var conditions = DependsOn.Concat(DependedBy).Where(r => !string.IsNullOrWhiteSpace(r.Task) && r.Condition is not ("success" or "completion")).ToList();
        if (conditions.Count > 0)
        {
            ModelState.AddModelError(DependenciesKey, $"'{conditions[0].Condition}' is not a condition: use success or completion.");
        }

        if (!ModelState.IsValid)
        {
            await LoadChoicesAsync(ct);
            return Page();
        }

        var edit = new TaskEdit
        {
            Id = Input.Id,
            Name = name,
            Task = Input.Task?.Trim() ?? "",
            Crontab = CrontabSpec.From(crontab!),
            CronBase = cronBase,
            SkipMisfire = Input.SkipMisfire,
            CoalesceMisfire = Input.CoalesceMisfire,
            GracePeriod = Input.GracePeriod,
            MaxCatchup = Input.MaxCatchup,
            MaxRunning = Input.MaxRunning,
            MaxRetries = Input.MaxRetries,
            RetryBackoff = Input.RetryBackoff,
            Timeout = Input.Timeout,
            Enabled = Input.Enabled,
            Args = Json(Input.Args, "[]"),
            Kwargs = Json(Input.Kwargs, "{}"),
            Headers = Json(Input.Headers, "{}"),
            Queue = Input.Queue?.Trim() ?? "",
            Priority = Input.Priority,
            Description = Input.Description ?? "",
        };
        var (saved, deleted) = Edges(name);
        try
        {
            await schedule.ApplyAsync(new ScheduleChange { Tasks = [edit], Dependencies = saved, DeletedDependencies = deleted }, ct);
        }
        catch (ScheduleValidationException ex)
        {
            FieldErrors.AddTo(ModelState, ex.Errors, field => KeyOf(field, $"tasks[{name}]"));
            await LoadChoicesAsync(ct);
            return Page();
        }

        TempData["Message"] = $"Saved task {name}.";
        return Redirect($"/tasks/details?name={Uri.EscapeDataString(name)}");
    }

    public async Task<IActionResult> OnPostDeleteAsync(CancellationToken ct)
    {
        var name = await db.PeriodicTasks.AsNoTracking().Where(t => t.Id == Input.Id).Select(t => t.Name).SingleOrDefaultAsync(ct);
        if (name is null)
        {
            return NotFound();
        }

        try
        {
            await schedule.ApplyAsync(new ScheduleChange { DeletedTasks = [name] }, ct);
        }
        catch (ScheduleValidationException ex)
        {
            FieldErrors.AddTo(ModelState, ex.Errors, _ => "");
            await LoadChoicesAsync(ct);
            return Page();
        }

        TempData["Message"] = $"Deleted task {name}.";
        return Redirect("/tasks");
    }

    /// <summary>The edges the rows ask for, and those they drop (deleted, or replaced by another task in the same row).</summary>
    private (List<DependencyEdit> Saved, List<DependencyKey> Deleted) Edges(string name)
    {
        var saved = new List<DependencyEdit>();
        var deleted = new List<DependencyKey>();
        foreach (var (rows, dependent) in new[] { (DependsOn, true), (DependedBy, false) })
        {
            foreach (var row in rows)
            {
                var other = row.Task?.Trim() ?? "";
                var original = row.Original?.Trim() ?? "";
                DependencyKey Key(string task) => dependent ? new(name, task) : new(task, name);
                if (original.Length > 0 && (row.Delete || other != original))
                {
                    deleted.Add(Key(original));
                }

                if (other.Length > 0 && !row.Delete)
                {
                    var key = Key(other);
                    saved.Add(new DependencyEdit(key.Depender, key.Dependee, row.FutureDepends,
                        row.Condition == "completion" ? DependencyCondition.Completion : DependencyCondition.Success));
                }
            }
        }

        return (saved, deleted);
    }

    /// <summary>The form key of a write-path error: the field beside which it is shown.</summary>
    private static string KeyOf(string field, string taskPath)
    {
        if (field.StartsWith("dependencies", StringComparison.Ordinal))
        {
            return DependenciesKey;
        }

        if (!field.StartsWith(taskPath + ".", StringComparison.Ordinal))
        {
            return "";
        }

        var name = field[(taskPath.Length + 1)..];
        if (FieldErrors.CronFieldNames.Contains(name))
        {
            return "Input.CrontabId";
        }

        var property = FieldErrors.Pascal(name);
        return typeof(TaskForm).GetProperty(property) is not null ? "Input." + property : "";
    }

    private static string Json(string? text, string empty) => string.IsNullOrWhiteSpace(text) ? empty : text;

    private static DependencyRow Row(string task, bool future, DependencyCondition condition) =>
        new() { Task = task, Original = task, FutureDepends = future, Condition = DependencyConditions.Name(condition) };

    private static TaskForm FormOf(PeriodicTask t) => new()
    {
        Id = t.Id,
        Name = t.Name,
        Task = t.Task,
        Description = t.Description,
        Enabled = t.Enabled,
        CrontabId = t.CrontabId,
        CronBase = Fmt.InputTime(t.CronBase.ToDateTimeOffset()),
        SkipMisfire = t.SkipMisfire,
        CoalesceMisfire = t.CoalesceMisfire,
        GracePeriod = t.GracePeriod,
        MaxCatchup = t.MaxCatchup,
        Args = t.Args,
        Kwargs = t.Kwargs,
        Queue = t.Queue,
        Priority = t.Priority,
        Headers = t.Headers,
        MaxRunning = t.MaxRunning,
        MaxRetries = t.MaxRetries,
        RetryBackoff = t.RetryBackoff,
        Timeout = t.Timeout,
    };

    private async Task LoadChoicesAsync(CancellationToken ct)
    {
        Crontabs = await db.Crontabs.AsNoTracking().OrderBy(c => c.Id).ToListAsync(ct);
        TaskNames = await db.PeriodicTasks.AsNoTracking().OrderBy(t => t.Name).Select(t => t.Name).ToListAsync(ct);
        StoredName = Input.Id is { } id ? await db.PeriodicTasks.AsNoTracking().Where(t => t.Id == id).Select(t => t.Name).SingleOrDefaultAsync(ct) : null;
    }
}
