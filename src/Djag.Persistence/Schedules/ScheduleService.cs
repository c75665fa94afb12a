using System.Text.Json;
using System.Text.Json.Nodes;
using Djag.Persistence.Operations;
using Djag.Persistence.UserActions;
using Djag.Scheduling;
using Microsoft.EntityFrameworkCore;
using NodaTime;

namespace Djag.Persistence.Schedules;

/// <summary>
/// The one write path for crontabs, tasks and dependencies. A change is validated as a whole
/// (each field, names, references, cycles in the graph it would leave) and saved in one transaction
/// together with the internal user actions the beat consumes; on any error nothing is saved.
/// </summary>
public sealed class ScheduleService(DjagDbContext db, TimeProvider time)
{
    /// <summary>Serializes schedule writers, so two changes cannot each pass the cycle check and together close a cycle.</summary>
    private const long WriteLockKey = 0x646a_6167_0001; // "djag" + 1

    public async Task<ScheduleChangeResult> ApplyAsync(ScheduleChange change, CancellationToken cancellationToken = default)
    {
        var errors = new List<FieldError>();
        foreach (var c in change.Crontabs)
        {
            ScheduleValidator.ValidateCrontab($"crontabs[{c.Id}]", c.Spec, errors);
        }

        foreach (var t in change.Tasks)
        {
            ScheduleValidator.ValidateTask($"tasks[{t.Name}]", t, errors);
        }

        foreach (var d in change.Dependencies)
        {
            ScheduleValidator.ValidateDependency($"dependencies[{d.Key}]", d, errors);
        }

        ScheduleValidator.ValidateUnique("tasks", change.Tasks, t => t.Name, errors);
        ScheduleValidator.ValidateUnique("dependencies", change.Dependencies, d => d.Key.ToString(), errors);
        ThrowIfAny(errors);

        var now = Instant.FromDateTimeOffset(time.GetUtcNow());
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({WriteLockKey})", cancellationToken);

        // One change may hold 100,000 tasks and as many edges: EF's automatic change detection would scan
        // every tracked entity again on each DbSet.Local access, Add and query, which makes an apply
        // quadratic. Changes are detected once, before saving.
        var autoDetect = db.ChangeTracker.AutoDetectChangesEnabled;
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        try
        {
            var actions = new List<UserAction>();
            void Act(string code, object payload) => actions.Add(Action(code, payload, now));

            var crontabs = await SaveCrontabsAsync(change.Crontabs, errors, Act, cancellationToken);
            var tasks = await LoadTasksAsync(change, cancellationToken);
            var tasksSaved = await SaveTasksAsync(change.Tasks, tasks, now, errors, Act, cancellationToken);
            var edges = await LoadEdgesAsync(tasks, cancellationToken);
            var (depsSaved, depsDeleted) = await SaveDependenciesAsync(change, tasks, edges, now, errors, Act, cancellationToken);
            var tasksDeleted = DeleteTasks(change, tasks, edges, errors, Act);
            if (depsSaved > 0)
            {
                await CheckAcyclicAsync(change, tasks, errors, cancellationToken);
            }

            ThrowIfAny(errors);

            db.ChangeTracker.DetectChanges();
            await SaveAsync(actions, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new ScheduleChangeResult(crontabs, tasksSaved, tasksDeleted, depsSaved, depsDeleted);
        }
        finally
        {
            db.ChangeTracker.AutoDetectChangesEnabled = autoDetect;
        }
    }

    /// <summary>Creates a crontab that no task uses yet (tasks still find crontabs by value); returns its id.</summary>
    public async Task<long> CreateCrontabAsync(CrontabSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var errors = new List<FieldError>();
        ScheduleValidator.ValidateCrontab("crontab", spec, errors);
        ThrowIfAny(errors);

        var now = Instant.FromDateTimeOffset(time.GetUtcNow());
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({WriteLockKey})", cancellationToken);
        var row = new Crontab();
        Assign(row, spec);
        db.Crontabs.Add(row);

        // Saved first: the user action names the crontab by its generated id.
        await db.SaveChangesAsync(cancellationToken);
        await SaveAsync([Action(UserActionCodes.ScheduleChanged, new { crontab = row.Id, change = "created" }, now)], cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return row.Id;
    }

    /// <summary>
    /// Deletes a crontab. Refused with an <see cref="OperationException"/>: NotFound when there is none with
    /// <paramref name="id"/>, Conflict while tasks use it (a task cannot be left without a schedule).
    /// </summary>
    public async Task DeleteCrontabAsync(long id, CancellationToken cancellationToken = default)
    {
        var now = Instant.FromDateTimeOffset(time.GetUtcNow());
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);

        // Under the write lock no writer can put a task on the crontab between the check and the delete.
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({WriteLockKey})", cancellationToken);
        var row = await db.Crontabs.FindAsync([id], cancellationToken)
            ?? throw OperationException.NotFound("crontab", $"no crontab with id {id}");
        var users = await db.PeriodicTasks.Where(t => t.CrontabId == id).OrderBy(t => t.Name).Select(t => t.Name).ToListAsync(cancellationToken);
        if (users.Count > 0)
        {
            throw OperationException.Conflict("crontab",
                $"crontab {id} is the schedule of {string.Join(", ", users.Select(u => $"'{u}'"))}; give those tasks another schedule first");
        }

        db.Crontabs.Remove(row);
        await SaveAsync([Action(UserActionCodes.ScheduleChanged, new { crontab = id, change = "deleted" }, now)], cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Saves the tracked changes with their user actions and wakes the beat; the caller commits.</summary>
    /// <remarks>The actions need no tracking: they go in one statement, in order, however many a change writes.</remarks>
    private async Task SaveAsync(List<UserAction> actions, CancellationToken ct)
    {
        await db.SaveChangesAsync(ct);
        if (actions.Count > 0)
        {
            var codes = actions.Select(a => a.Action).ToArray();
            var payloads = actions.Select(a => a.Payload).ToArray();
            var created = actions.Select(a => a.CreateDt).ToArray();
            await db.Database.ExecuteSqlAsync($"""
                INSERT INTO djag.user_actions (action, payload, create_dt)
                SELECT a.action, a.payload::jsonb, a.create_dt
                FROM unnest({codes}, {payloads}, {created}) WITH ORDINALITY AS a(action, payload, create_dt, n)
                ORDER BY a.n
                """, ct);
            await db.Database.ExecuteSqlAsync($"SELECT pg_notify({DjagDbContext.ChangesChannel}, '')", ct);
        }
    }

    private static UserAction Action(string code, object payload, Instant now) =>
        new() { Action = code, Payload = JsonSerializer.Serialize(payload), CreateDt = now };

    private async Task<int> SaveCrontabsAsync(
        IReadOnlyList<CrontabEdit> edits, List<FieldError> errors, Action<string, object> act, CancellationToken ct)
    {
        var changed = 0;
        foreach (var edit in edits)
        {
            var row = await db.Crontabs.FindAsync([edit.Id], ct);
            if (row is null)
            {
                errors.Add(new FieldError($"crontabs[{edit.Id}]", $"no crontab with id {edit.Id}"));
                continue;
            }

            if (CrontabSpec.From(row) == edit.Spec)
            {
                continue;
            }

            Assign(row, edit.Spec);
            changed++;
            act(UserActionCodes.ScheduleChanged, new { crontab = row.Id });
        }

        return changed;
    }

    /// <summary>Every task the change names, by name, tracked for update.</summary>
    private async Task<Dictionary<string, PeriodicTask>> LoadTasksAsync(ScheduleChange change, CancellationToken ct)
    {
        var names = change.Tasks.Select(t => t.Name)
            .Concat(change.DeletedTasks)
            .Concat(change.Dependencies.SelectMany(d => new[] { d.Depender, d.Dependee }))
            .Concat(change.DeletedDependencies.SelectMany(d => new[] { d.Depender, d.Dependee }))
            .Distinct()
            .ToList();
        var ids = change.Tasks.Where(t => t.Id is not null).Select(t => t.Id!.Value).ToList();
        var rows = await db.PeriodicTasks.Include(t => t.Crontab)
            .Where(t => names.Contains(t.Name) || ids.Contains(t.Id))
            .ToListAsync(ct);
        return rows.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    private async Task<int> SaveTasksAsync(
        IReadOnlyList<TaskEdit> edits, Dictionary<string, PeriodicTask> tasks, Instant now,
        List<FieldError> errors, Action<string, object> act, CancellationToken ct)
    {
        // Looked up once per change, not once per task: the stored tasks by id and the crontabs the edits name by value.
        var byId = tasks.Values.ToDictionary(t => t.Id);
        var crontabs = await LoadCrontabsAsync(edits.Select(e => e.Crontab), ct);
        var saved = 0;
        foreach (var edit in edits)
        {
            var path = $"tasks[{edit.Name}]";
            PeriodicTask? row;
            if (edit.Id is { } id)
            {
                row = byId.GetValueOrDefault(id);
                if (row is null)
                {
                    errors.Add(new FieldError($"{path}.id", $"no task with id {id}"));
                    continue;
                }

                if (row.Name != edit.Name && tasks.TryGetValue(edit.Name, out var other) && other.Id != id)
                {
                    errors.Add(new FieldError($"{path}.name", $"'{edit.Name}' is already the name of another task"));
                    continue;
                }
            }
            else
            {
                tasks.TryGetValue(edit.Name, out row);
            }

            if (row is not null && Matches(row, edit))
            {
                continue;
            }

            if (!crontabs.TryGetValue(edit.Crontab, out var crontab))
            {
                crontab = new Crontab();
                Assign(crontab, edit.Crontab);
                db.Crontabs.Add(crontab);
                crontabs.Add(edit.Crontab, crontab);
            }

            if (row is null)
            {
                row = new PeriodicTask { Name = edit.Name, Task = edit.Task, CronBase = edit.CronBase ?? now };
                db.PeriodicTasks.Add(row);
            }

            var previous = row.Name;
            tasks.Remove(previous);
            Assign(row, edit, crontab);
            row.DateChanged = now;
            tasks[row.Name] = row;
            saved++;
            act(UserActionCodes.TaskChanged, previous == row.Name
                ? (object)new { task = row.Name, change = "saved" }
                : new { task = row.Name, change = "renamed", previous });
        }

        return saved;
    }

    /// <summary>
    /// The crontabs with one of <paramref name="specs"/> by value, as they stand in this change: those already
    /// tracked (an edited crontab by its new value) before the stored ones, the oldest of equal rows first.
    /// </summary>
    private async Task<Dictionary<CrontabSpec, Crontab>> LoadCrontabsAsync(IEnumerable<CrontabSpec> specs, CancellationToken ct)
    {
        var wanted = specs.ToHashSet();
        var found = new Dictionary<CrontabSpec, Crontab>();
        if (wanted.Count == 0)
        {
            return found;
        }

        foreach (var tracked in db.Crontabs.Local)
        {
            var spec = CrontabSpec.From(tracked);
            if (wanted.Contains(spec))
            {
                found.TryAdd(spec, tracked);
            }
        }

        var keys = wanted.Select(Key).ToList();
        var stored = await db.Crontabs
            .Where(c => keys.Contains(c.Second + " " + c.Minute + " " + c.Hour + " " + c.DayOfMonth + " " + c.MonthOfYear + " " + c.DayOfWeek + " " + c.Timezone))
            .OrderBy(c => c.Id)
            .ToListAsync(ct);
        foreach (var row in stored)
        {
            // A tracked row comes back with its values in this change, which may no longer be the stored ones.
            var spec = CrontabSpec.From(row);
            if (wanted.Contains(spec))
            {
                found.TryAdd(spec, row);
            }
        }

        return found;

        static string Key(CrontabSpec spec)
        {
            var f = spec.Fields;
            return $"{f.Second} {f.Minute} {f.Hour} {f.DayOfMonth} {f.MonthOfYear} {f.DayOfWeek} {spec.Timezone}";
        }
    }

    /// <summary>Edges touching the tasks of the change, keyed by (depender, dependee) names.</summary>
    private async Task<Dictionary<DependencyKey, TaskDependency>> LoadEdgesAsync(
        Dictionary<string, PeriodicTask> tasks, CancellationToken ct)
    {
        var ids = tasks.Values.Where(t => t.Id != 0).Select(t => t.Id).ToList();
        var rows = await db.TaskDependencies.Include(d => d.Depender).Include(d => d.Dependee)
            .Where(d => ids.Contains(d.DependerId) || ids.Contains(d.DependeeId))
            .ToListAsync(ct);
        return rows.ToDictionary(d => new DependencyKey(d.Depender.Name, d.Dependee.Name));
    }

    private async Task<(int Saved, int Deleted)> SaveDependenciesAsync(
        ScheduleChange change, Dictionary<string, PeriodicTask> tasks, Dictionary<DependencyKey, TaskDependency> edges,
        Instant now, List<FieldError> errors, Action<string, object> act, CancellationToken ct)
    {
        var deletedTasks = change.DeletedTasks.ToHashSet(StringComparer.Ordinal);
        var remarked = new List<TaskDependency>();
        var saved = 0;
        foreach (var edit in change.Dependencies)
        {
            var path = $"dependencies[{edit.Key}]";
            var depender = Resolve(edit.Depender, "depender");
            var dependee = Resolve(edit.Dependee, "dependee");
            if (depender is null || dependee is null)
            {
                continue;
            }

            if (edges.TryGetValue(edit.Key, out var row)
                && row.FutureDepends == edit.FutureDepends && row.Condition == edit.Condition)
            {
                continue;
            }

            if (row is null)
            {
                row = new TaskDependency { Depender = depender, Dependee = dependee };
                db.TaskDependencies.Add(row);
                edges[edit.Key] = row;
            }
            else
            {
                // The change mark restarts future-depends: the next run after a change is free.
                remarked.Add(row);
            }

            row.FutureDepends = edit.FutureDepends;
            row.Condition = edit.Condition;
            row.ChangeDt = now;
            saved++;
            act(UserActionCodes.DependencyChanged, new { depender = edit.Depender, dependee = edit.Dependee, change = "saved" });

            PeriodicTask? Resolve(string name, string field)
            {
                if (!deletedTasks.Contains(name) && tasks.TryGetValue(name, out var task))
                {
                    return task;
                }

                errors.Add(new FieldError($"{path}.{field}", $"unknown task '{name}'"));
                return null;
            }
        }

        if (remarked.Count > 0)
        {
            var marks = await db.NextMarksAsync(remarked.Count, ct);
            for (var i = 0; i < remarked.Count; i++)
            {
                remarked[i].ChangeMark = marks[i];
            }
        }

        var deleted = 0;
        foreach (var key in change.DeletedDependencies)
        {
            if (!edges.Remove(key, out var row))
            {
                errors.Add(new FieldError($"dependencies[{key}]", $"no dependency {key.Depender} -> {key.Dependee}"));
                continue;
            }

            db.TaskDependencies.Remove(row);
            deleted++;
            act(UserActionCodes.DependencyChanged, new { depender = key.Depender, dependee = key.Dependee, change = "deleted" });
        }

        return (saved, deleted);
    }

    private int DeleteTasks(
        ScheduleChange change, Dictionary<string, PeriodicTask> tasks, Dictionary<DependencyKey, TaskDependency> edges,
        List<FieldError> errors, Action<string, object> act)
    {
        var deleting = change.DeletedTasks.ToHashSet(StringComparer.Ordinal);
        var dependersOf = deleting.Count == 0 ? null : edges.Keys.ToLookup(k => k.Dependee, k => k.Depender, StringComparer.Ordinal);
        var deleted = 0;
        foreach (var name in change.DeletedTasks)
        {
            if (!tasks.TryGetValue(name, out var row) || row.Id == 0)
            {
                errors.Add(new FieldError($"tasks[{name}]", $"no task named '{name}' to delete"));
                continue;
            }

            // A dependee cannot vanish under its dependers: they would never be released.
            var dependers = dependersOf![name].Where(d => !deleting.Contains(d)).ToList();
            if (dependers.Count > 0)
            {
                errors.Add(new FieldError($"tasks[{name}]",
                    $"'{name}' is a dependee of {string.Join(", ", dependers.Select(d => $"'{d}'"))}; delete those dependencies first"));
                continue;
            }

            db.PeriodicTasks.Remove(row);
            deleted++;
            act(UserActionCodes.TaskChanged, new { task = name, change = "deleted" });
        }

        return deleted;
    }

    /// <summary>The graph the change leaves behind, without future edges, must be acyclic.</summary>
    private async Task CheckAcyclicAsync(
        ScheduleChange change, Dictionary<string, PeriodicTask> tasks, List<FieldError> errors, CancellationToken ct)
    {
        var stored = await db.TaskDependencies.AsNoTracking()
            .Where(d => !d.FutureDepends)
            .Select(d => new { d.DependerId, DependerName = d.Depender.Name, d.DependeeId, DependeeName = d.Dependee.Name })
            .ToListAsync(ct);

        // Names as the change leaves them: a task renamed in this change is known by its new name.
        var current = tasks.Values.Where(t => t.Id != 0).ToDictionary(t => t.Id, t => t.Name);
        var removed = change.DeletedDependencies.Concat(change.Dependencies.Select(d => d.Key)).ToHashSet();
        var graph = stored
            .Select(e => new DependencyKey(current.GetValueOrDefault(e.DependerId, e.DependerName), current.GetValueOrDefault(e.DependeeId, e.DependeeName)))
            .Where(k => !removed.Contains(k))
            .Select(k => new DependencyEdge(k.Depender, k.Dependee))
            .Concat(change.Dependencies.Where(d => !d.FutureDepends).Select(d => new DependencyEdge(d.Depender, d.Dependee)));
        if (DependencyGraph.FindCycle(graph) is { } cycle)
        {
            errors.Add(new FieldError("dependencies", $"the change would close the cycle {DependencyGraph.Render(cycle)}"));
        }
    }

    private static void ThrowIfAny(List<FieldError> errors)
    {
        if (errors.Count > 0)
        {
            throw new ScheduleValidationException(errors.ToList());
        }
    }

    private static bool Matches(PeriodicTask row, TaskEdit e) =>
        row.Name == e.Name && row.Task == e.Task && CrontabSpec.From(row.Crontab) == e.Crontab
        && (e.CronBase is null || e.CronBase == row.CronBase)
        && row.SkipMisfire == e.SkipMisfire && row.CoalesceMisfire == e.CoalesceMisfire
        && row.GracePeriod == e.GracePeriod && row.MaxCatchup == e.MaxCatchup && row.MaxRunning == e.MaxRunning
        && row.MaxRetries == e.MaxRetries && row.RetryBackoff == e.RetryBackoff && row.Timeout == e.Timeout
        && row.Enabled == e.Enabled && row.Queue == e.Queue && row.Priority == e.Priority && row.Description == e.Description
        && SameJson(row.Args, e.Args) && SameJson(row.Kwargs, e.Kwargs) && SameJson(row.Headers, e.Headers);

    private static bool SameJson(string a, string b) => JsonNode.DeepEquals(JsonNode.Parse(a), JsonNode.Parse(b));

    private static void Assign(Crontab row, CrontabSpec spec)
    {
        var f = spec.Fields;
        (row.Second, row.Minute, row.Hour, row.DayOfMonth, row.MonthOfYear, row.DayOfWeek, row.Timezone) =
            (f.Second, f.Minute, f.Hour, f.DayOfMonth, f.MonthOfYear, f.DayOfWeek, spec.Timezone);
    }

    private static void Assign(PeriodicTask row, TaskEdit e, Crontab crontab)
    {
        row.Name = e.Name;
        row.Task = e.Task;
        row.Crontab = crontab;
        row.CronBase = e.CronBase ?? row.CronBase;
        row.SkipMisfire = e.SkipMisfire;
        row.CoalesceMisfire = e.CoalesceMisfire;
        row.GracePeriod = e.GracePeriod;
        row.MaxCatchup = e.MaxCatchup;
        row.MaxRunning = e.MaxRunning;
        row.MaxRetries = e.MaxRetries;
        row.RetryBackoff = e.RetryBackoff;
        row.Timeout = e.Timeout;
        row.Enabled = e.Enabled;
        row.Args = e.Args;
        row.Kwargs = e.Kwargs;
        row.Headers = e.Headers;
        row.Queue = e.Queue;
        row.Priority = e.Priority;
        row.Description = e.Description;
    }
}
