using System.Text.Json;
using Djag.Persistence.Runs;
using Djag.Persistence.Schedules;
using Djag.Scheduling;
using Djag.Scheduling.ScheduleFiles;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using NodaTime;

namespace Djag.Persistence.Operations;

/// <summary>
/// <see cref="IDjagOperations"/> on the database. Writes go through <see cref="ScheduleService"/> or add
/// <c>scheduled</c> run rows, which the beat dispatches within a second; the beat's clock is not needed.
/// </summary>
public sealed class DatabaseOperations(DjagDbContext db, TimeProvider time) : IDjagOperations
{
    public const int MaxLimit = 500;

    /// <summary>Bounds one backfill, so a typo in a range cannot queue millions of runs.</summary>
    public const int MaxBackfillEvents = 10_000;

    public async Task<Page<TaskSummary>> ListTasksAsync(TaskQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        CheckPage(query.Offset, query.Limit);
        var tasks = db.PeriodicTasks.AsNoTracking().Include(t => t.Crontab).AsQueryable();
        if (!string.IsNullOrWhiteSpace(query.Search))
        {
            if (StorableText.Problem(query.Search) is { } problem)
            {
                throw OperationException.Invalid("search", $"the search text {problem}");
            }

            var pattern = "%" + query.Search.Trim().Replace("\\", "\\\\", StringComparison.Ordinal)
                .Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal) + "%";
            tasks = tasks.Where(t => EF.Functions.ILike(t.Name, pattern) || EF.Functions.ILike(t.Task, pattern));
        }

        if (query.Enabled is { } enabled)
        {
            tasks = tasks.Where(t => t.Enabled == enabled);
        }

        if (query.Running is { } running)
        {
            tasks = running ? tasks.Where(t => t.State.Running > 0) : tasks.Where(t => t.State.Running == 0);
        }

        var total = await tasks.CountAsync(cancellationToken);
        var sorted = (query.Sort, query.Descending) switch
        {
            ("name", false) => tasks.OrderBy(t => t.Name),
            ("name", true) => tasks.OrderByDescending(t => t.Name),
            ("task", false) => tasks.OrderBy(t => t.Task).ThenBy(t => t.Name),
            ("task", true) => tasks.OrderByDescending(t => t.Task).ThenBy(t => t.Name),
            ("last_cron_start", false) => tasks.OrderBy(t => t.State.LastCronStart).ThenBy(t => t.Name),
            ("last_cron_start", true) => tasks.OrderByDescending(t => t.State.LastCronStart).ThenBy(t => t.Name),
            ("last_cron_end", false) => tasks.OrderBy(t => t.State.LastCronEnd).ThenBy(t => t.Name),
            ("last_cron_end", true) => tasks.OrderByDescending(t => t.State.LastCronEnd).ThenBy(t => t.Name),
            ("total_run_count", false) => tasks.OrderBy(t => t.State.TotalRunCount).ThenBy(t => t.Name),
            ("total_run_count", true) => tasks.OrderByDescending(t => t.State.TotalRunCount).ThenBy(t => t.Name),
            ("running", false) => tasks.OrderBy(t => t.State.Running).ThenBy(t => t.Name),
            ("running", true) => tasks.OrderByDescending(t => t.State.Running).ThenBy(t => t.Name),
            _ => throw OperationException.Invalid("sort", $"'{query.Sort}' is not a sort key: use one of {string.Join(", ", TaskQuery.SortKeys)}"),
        };
        var page = await sorted.Skip(query.Offset).Take(query.Limit).ToListAsync(cancellationToken);
        var outcomes = await LastOutcomesAsync([.. page.Select(t => t.Id)], cancellationToken);
        return new Page<TaskSummary>([.. page.Select(t => Summary(t, outcomes.GetValueOrDefault(t.Id)))], total, query.Offset, query.Limit);
    }

    public async Task<TaskDetail> GetTaskAsync(string name, CancellationToken cancellationToken = default)
    {
        var task = await FindTaskAsync(name, cancellationToken);
        var edges = await db.TaskDependencies.AsNoTracking()
            .Where(d => d.DependerId == task.Id || d.DependeeId == task.Id)
            .Select(d => new { d.DependerId, Depender = d.Depender.Name, Dependee = d.Dependee.Name, d.FutureDepends, d.Condition, d.ChangeDt })
            .OrderBy(d => d.Depender).ThenBy(d => d.Dependee)
            .ToListAsync(cancellationToken);
        var outcomes = await LastOutcomesAsync([task.Id], cancellationToken);
        var views = edges.Select(e => (e.DependerId, View: new DependencyView(e.Depender, e.Dependee, e.FutureDepends, DependencyConditions.Name(e.Condition), Utc(e.ChangeDt)))).ToList();
        return new TaskDetail(
            Summary(task, outcomes.GetValueOrDefault(task.Id)),
            Utc(task.CronBase),
            task.Args,
            task.Kwargs,
            task.Headers,
            task.Queue,
            task.Priority,
            MisfireName(task.Misfire()),
            task.GracePeriod,
            task.MaxCatchup,
            task.MaxRunning,
            task.MaxRetries,
            task.RetryBackoff,
            task.Timeout,
            task.Description,
            Utc(task.DateChanged),
            [.. views.Where(v => v.DependerId == task.Id).Select(v => v.View)],
            [.. views.Where(v => v.View.Dependee == task.Name && v.View.Depender != task.Name).Select(v => v.View)]);
    }

    public async Task<Page<RunView>> ListRunsAsync(RunQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        CheckPage(query.Offset, query.Limit);
        CheckOneOf("state", query.State, RunStates.All);
        CheckOneOf("outcome", query.Outcome, RunOutcomes.All);
        CheckOneOf("origin", query.Origin, RunOrigins.All);
        var runs = RunRows();
        if (query.Task is { } name)
        {
            var task = await FindTaskAsync(name, cancellationToken);
            runs = runs.Where(r => r.Run.TaskId == task.Id);
        }

        if (query.State is { } state)
        {
            runs = runs.Where(r => r.Run.State == state);
        }

        if (query.Outcome is { } outcome)
        {
            runs = runs.Where(r => r.Run.Outcome == outcome);
        }

        if (query.Origin is { } origin)
        {
            runs = runs.Where(r => r.Run.Origin == origin);
        }

        var total = await runs.CountAsync(cancellationToken);
        var page = await runs.OrderByDescending(r => r.Run.Id).Skip(query.Offset).Take(query.Limit).ToListAsync(cancellationToken);
        return new Page<RunView>([.. page.Select(r => View(r.Run, r.Task))], total, query.Offset, query.Limit);
    }

    public async Task<RunView> GetRunAsync(long id, CancellationToken cancellationToken = default)
    {
        var row = await RunRows().SingleOrDefaultAsync(r => r.Run.Id == id, cancellationToken)
            ?? throw OperationException.NotFound("run_id", $"no run with id {id}");
        return View(row.Run, row.Task);
    }

    public async Task<WhyView> WhyAsync(string name, CancellationToken cancellationToken = default)
    {
        var task = await FindTaskAsync(name, cancellationToken);
        var input = await db.LoadEvaluationInputAsync(task, cancellationToken);
        var now = Now();
        var edges = input.ResolveEdges(task)
            .Select(r => new EdgeView(r.Edge.Dependee, r.Edge.FutureDepends, DependencyConditions.Name(r.Edge.Condition), r.Resolved, r.Explanation))
            .ToList();
        if (!task.Enabled)
        {
            return new WhyView(task.Name, WhyVerdicts.Disabled, null, ["the task is disabled (paused): the beat dispatches none of its events"],
                edges, task.State.Running, task.MaxRunning, null, Utc(now));
        }

        var decision = input.Evaluate(task, now);
        return decision switch
        {
            TaskDecision.Dispatch d => new WhyView(task.Name, WhyVerdicts.Due, Utc(d.Event), [], edges, task.State.Running, task.MaxRunning, Utc(d.Event), Utc(now)),
            TaskDecision.Wait w => new WhyView(task.Name, WhyVerdicts.Waiting, Utc(w.Event), w.Reasons, edges, task.State.Running, task.MaxRunning, Utc(w.Event), Utc(now)),
            TaskDecision.NotDue n => new WhyView(task.Name, WhyVerdicts.NotDue, null, [], edges, task.State.Running, task.MaxRunning, Utc(n.NextEventAt), Utc(now)),
            _ => throw new InvalidOperationException($"unknown decision {decision}"),
        };
    }

    public async Task<DagView> GetDagAsync(CancellationToken cancellationToken = default)
    {
        var tasks = await db.PeriodicTasks.AsNoTracking().OrderBy(t => t.Name)
            .Select(t => new { t.Id, t.Name, t.Task, t.Enabled, t.State.Running })
            .ToListAsync(cancellationToken);
        var outcomes = await LastOutcomesAsync(null, cancellationToken);
        var edges = await db.TaskDependencies.AsNoTracking()
            .OrderBy(d => d.Depender.Name).ThenBy(d => d.Dependee.Name)
            .Select(d => new { Depender = d.Depender.Name, Dependee = d.Dependee.Name, d.FutureDepends, d.Condition, d.ChangeDt })
            .ToListAsync(cancellationToken);
        return new DagView(
            [.. tasks.Select(t => new DagNode(t.Name, t.Task, StateOf(t.Enabled, t.Running, outcomes.GetValueOrDefault(t.Id))))],
            [.. edges.Select(e => new DependencyView(e.Depender, e.Dependee, e.FutureDepends, DependencyConditions.Name(e.Condition), Utc(e.ChangeDt)))]);
    }

    public async Task<RunView> RunNowAsync(string name, CancellationToken cancellationToken = default)
    {
        var task = await FindTaskAsync(name, cancellationToken);
        var now = Now();
        var run = new Run { TaskId = task.Id, Cron = now, Origin = RunOrigins.Manual, State = RunStates.Scheduled, NotBefore = now };
        db.Runs.Add(run);
        await db.SaveChangesAsync(cancellationToken);
        return View(run, task.Name);
    }

    public Task<TaskSummary> PauseAsync(string name, CancellationToken cancellationToken = default) => SetEnabledAsync(name, false, cancellationToken);

    public Task<TaskSummary> ResumeAsync(string name, CancellationToken cancellationToken = default) => SetEnabledAsync(name, true, cancellationToken);

    public async Task<BackfillResult> BackfillAsync(string name, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default)
    {
        if (to < from)
        {
            throw OperationException.Invalid("to", $"{Instant.FromDateTimeOffset(to)} is before from ({Instant.FromDateTimeOffset(from)})");
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var task = await db.LockTaskAsync(name, cancellationToken) ?? throw UnknownTask(name);

        // Events after the pointer are the beat's to dispatch by the schedule; a backfill run of one would
        // take its (task, cron, attempt) and the beat would count the event as done.
        var pointer = TaskEvaluator.PointerOf(task.ToDefinition(), task.State.ToCore());
        var start = Instant.FromDateTimeOffset(from);
        var end = Instant.FromDateTimeOffset(to);
        var events = task.Crontab.ToSchedule().Between(start - Duration.Epsilon, end).Take(MaxBackfillEvents + 1).ToList();
        if (events.Count > MaxBackfillEvents)
        {
            throw OperationException.Invalid("from", $"the range holds more than {MaxBackfillEvents} events of {task.Name}; backfill a shorter range");
        }

        var stored = (await db.Runs.AsNoTracking()
                .Where(r => r.TaskId == task.Id && r.Cron >= start && r.Cron <= end)
                .Select(r => new { r.Cron, r.Attempt, r.State })
                .ToListAsync(cancellationToken))
            .GroupBy(r => r.Cron)
            .ToDictionary(g => g.Key, g => (Ran: g.Any(r => r.State is not (RunStates.Skipped or RunStates.Coalesced)), Attempt: g.Max(r => r.Attempt)));
        var now = Now();
        var queued = new List<Run>();
        var alreadyRan = 0;
        foreach (var cron in events.Where(e => e <= pointer))
        {
            var previous = stored.GetValueOrDefault(cron);
            if (previous.Ran)
            {
                alreadyRan++;
                continue;
            }

            // An event recorded as skipped or coalesced keeps that row; its backfill is the next attempt.
            queued.Add(new Run { TaskId = task.Id, Cron = cron, Attempt = previous.Attempt + 1, Origin = RunOrigins.Backfill, State = RunStates.Scheduled, NotBefore = now });
        }

        db.Runs.AddRange(queued);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new BackfillResult(task.Name, [.. queued.Select(r => r.Id)], alreadyRan, events.Count(e => e > pointer));
    }

    public async Task<RunView> RetryAsync(long runId, CancellationToken cancellationToken = default)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var run = await db.Runs.FromSql($"SELECT * FROM djag.runs WHERE id = {runId} FOR UPDATE").AsNoTracking().SingleOrDefaultAsync(cancellationToken)
            ?? throw OperationException.NotFound("run_id", $"no run with id {runId}");
        if (run.Outcome is not (RunOutcomes.Failure or RunOutcomes.Lost))
        {
            var what = run.Outcome is { } outcome ? $"finished with {outcome}" : run.State;
            throw OperationException.Conflict("run_id", $"run {runId} is {what}; only a failed or lost run can be retried");
        }

        var later = await db.Runs.AsNoTracking()
            .Where(r => r.TaskId == run.TaskId && r.Cron == run.Cron && r.Attempt > run.Attempt)
            .OrderBy(r => r.Attempt).Select(r => new { r.Id, r.Attempt }).FirstOrDefaultAsync(cancellationToken);
        if (later is not null)
        {
            throw OperationException.Conflict("run_id", $"run {runId} was already retried as run {later.Id} (attempt {later.Attempt})");
        }

        var now = Now();
        var retry = new Run { TaskId = run.TaskId, Cron = run.Cron, Attempt = run.Attempt + 1, Origin = RunOrigins.Retry, State = RunStates.Scheduled, NotBefore = now };
        db.Runs.Add(retry);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        var name = await db.PeriodicTasks.Where(t => t.Id == run.TaskId).Select(t => t.Name).SingleAsync(cancellationToken);
        return View(retry, name);
    }

    public async Task<ScheduleDocument> ExportAsync(CancellationToken cancellationToken = default)
    {
        var tasks = await db.PeriodicTasks.AsNoTracking().Include(t => t.Crontab).OrderBy(t => t.Name).ToListAsync(cancellationToken);
        var edges = await db.TaskDependencies.AsNoTracking()
            .OrderBy(d => d.Depender.Name).ThenBy(d => d.Dependee.Name)
            .Select(d => new DependencySpec(d.Depender.Name, d.Dependee.Name, d.FutureDepends, d.Condition))
            .ToListAsync(cancellationToken);
        return new ScheduleDocument([.. tasks.Select(ToSpec)], edges);
    }

    public async Task<ApplyResult> ApplyAsync(ScheduleDocument document, bool prune, bool dryRun, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(document);

        // Read outside the service's lock: a concurrent writer can at worst make a prune name a task that is
        // gone, which the service rejects as a whole.
        var storedTasks = await db.PeriodicTasks.Select(t => t.Name).ToListAsync(cancellationToken);
        var storedEdges = (await db.TaskDependencies
                .Select(d => new { Depender = d.Depender.Name, Dependee = d.Dependee.Name })
                .ToListAsync(cancellationToken))
            .Select(d => new DependencyKey(d.Depender, d.Dependee))
            .ToList();
        var change = ScheduleDocumentMapping.ToChange(document, storedTasks, storedEdges, prune);

        // The service has loaded the stored rows and left untouched every edit equal to them, so just before
        // it saves, the tracked entries are exactly the diff. Leaving its transaction uncommitted is the dry
        // run, so a dry run and a real run can never disagree on what is accepted.
        var result = new ApplyResult([], [], dryRun);
        void Capture(object? sender, SavingChangesEventArgs e)
        {
            result = Diff(db.ChangeTracker, dryRun);
            if (dryRun)
            {
                throw new DryRunStopException();
            }
        }

        db.SavingChanges += Capture;
        try
        {
            await new ScheduleService(db, time).ApplyAsync(change, cancellationToken);
        }
        catch (DryRunStopException)
        {
        }
        finally
        {
            db.SavingChanges -= Capture;
            db.ChangeTracker.Clear();
        }

        return result;
    }

    private async Task<TaskSummary> SetEnabledAsync(string name, bool enabled, CancellationToken ct)
    {
        var task = await FindTaskAsync(name, ct);
        await new ScheduleService(db, time).ApplyAsync(new ScheduleChange { Tasks = [TaskEdit.From(task) with { Enabled = enabled }] }, ct);
        db.ChangeTracker.Clear();
        var outcomes = await LastOutcomesAsync([task.Id], ct);
        return Summary(await db.PeriodicTasks.AsNoTracking().Include(t => t.Crontab).SingleAsync(t => t.Id == task.Id, ct), outcomes.GetValueOrDefault(task.Id));
    }

    /// <summary>A name no task can have (a NUL, a lone surrogate) is not looked up: PostgreSQL refuses such a parameter.</summary>
    private async Task<PeriodicTask> FindTaskAsync(string name, CancellationToken ct) =>
        StorableText.Problem(name) is not null ? throw UnknownTask(name) : await db.PeriodicTasks.AsNoTracking().Include(t => t.Crontab).SingleOrDefaultAsync(t => t.Name == name, ct)
        ?? throw UnknownTask(name);

    private static OperationException UnknownTask(string name) =>
        OperationException.NotFound("task", $"no task named '{name.Replace("\0", "\\u0000", StringComparison.Ordinal)}'");

    /// <summary>The outcome of each task's latest finished run (all tasks when <paramref name="ids"/> is null).</summary>
    private async Task<Dictionary<long, string?>> LastOutcomesAsync(IReadOnlyList<long>? ids, CancellationToken ct)
    {
        var finished = db.Runs.AsNoTracking().Where(r => r.State == RunStates.Finished);
        if (ids is not null)
        {
            finished = finished.Where(r => ids.Contains(r.TaskId));
        }

        var latest = await finished
            .GroupBy(r => r.TaskId)
            .Select(g => new { TaskId = g.Key, g.OrderByDescending(r => r.Id).First().Outcome })
            .ToListAsync(ct);
        return latest.ToDictionary(l => l.TaskId, l => l.Outcome);
    }

    // A member-init projection: EF translates filters on its members, not on a positional record's.
    private IQueryable<RunRow> RunRows() =>
        db.Runs.AsNoTracking().Join(db.PeriodicTasks, r => r.TaskId, t => t.Id, (r, t) => new RunRow { Run = r, Task = t.Name });

    // Set by an initializer, not a constructor: EF translates members of a member-init projection in later
    // Where/OrderBy clauses, but not members read back through constructor parameters.
    private sealed class RunRow
    {
        public required Run Run { get; init; }
        public required string Task { get; init; }
    }

    private static TaskSummary Summary(PeriodicTask t, string? lastOutcome)
    {
        var schedule = t.Crontab.ToSchedule();
        return new TaskSummary(
            t.Id, t.Name, t.Task, schedule.Fields.Expression, schedule.TimeZoneId, t.Enabled, t.State.Running,
            Utc(t.State.LastCron), Utc(t.State.LastCronStart), Utc(t.State.LastCronEnd), t.State.TotalRunCount,
            t.Enabled ? Utc(TaskEvaluator.NextEvent(t.ToDefinition(), t.State.ToCore())) : null,
            StateOf(t.Enabled, t.State.Running, lastOutcome));
    }

    private static string StateOf(bool enabled, int running, string? lastOutcome) =>
        !enabled ? TaskStates.Disabled
        : running > 0 ? TaskStates.Running
        : lastOutcome is RunOutcomes.Failure or RunOutcomes.Lost ? TaskStates.Failed
        : TaskStates.Waiting;

    internal static RunView View(Run r, string task) => new(
        r.Id, task, Utc(r.Cron), r.Attempt, r.Origin, r.State, r.Outcome, r.Worker, Utc(r.NotBefore),
        Utc(r.DispatchedAt), Utc(r.StartedAt), Utc(r.FinishedAt),
        r.StartedAt is { } s && r.FinishedAt is { } f ? (f - s).TotalSeconds : null,
        r.Error, r.OutputTail, r.Reason);

    private static TaskSpec ToSpec(PeriodicTask t) => new()
    {
        Name = t.Name,
        Task = t.Task,
        Schedule = t.Crontab.ToSchedule(),
        CronBase = t.CronBase,
        Misfire = t.Misfire(),
        GracePeriod = Seconds(t.GracePeriod),
        MaxCatchup = t.MaxCatchup,
        MaxRunning = t.MaxRunning,
        MaxRetries = t.MaxRetries,
        RetryBackoff = t.RetryBackoff == 0 ? null : Duration.FromSeconds(t.RetryBackoff),
        Timeout = Seconds(t.Timeout),
        Enabled = t.Enabled,
        Args = Json(t.Args),
        Kwargs = Json(t.Kwargs),
        Queue = t.Queue,
        Priority = t.Priority,
        Headers = Json(t.Headers),
        Description = t.Description,
    };

    private static ApplyResult Diff(ChangeTracker tracker, bool dryRun)
    {
        var tasks = tracker.Entries<PeriodicTask>().Select(e => Entry(e.State, e.Entity.Name)).OfType<DiffEntry>();
        var dependencies = tracker.Entries<TaskDependency>()
            .Select(e => Entry(e.State, $"{e.Entity.Depender.Name} -> {e.Entity.Dependee.Name}"))
            .OfType<DiffEntry>();
        return new ApplyResult(Sorted(tasks), Sorted(dependencies), dryRun);
    }

    private static DiffEntry? Entry(EntityState state, string name) => state switch
    {
        EntityState.Added => new DiffEntry(DiffKind.Added, name),
        EntityState.Modified => new DiffEntry(DiffKind.Changed, name),
        EntityState.Deleted => new DiffEntry(DiffKind.Removed, name),
        _ => null,
    };

    private static List<DiffEntry> Sorted(IEnumerable<DiffEntry> entries) =>
        [.. entries.OrderBy(e => e.Kind).ThenBy(e => e.Name, StringComparer.Ordinal)];

    private static void CheckPage(int offset, int limit)
    {
        if (offset < 0)
        {
            throw OperationException.Invalid("offset", $"{offset} is negative");
        }

        if (limit is < 1 or > MaxLimit)
        {
            throw OperationException.Invalid("limit", $"{limit} is not between 1 and {MaxLimit}");
        }
    }

    private static void CheckOneOf(string field, string? value, IReadOnlyList<string> allowed)
    {
        if (value is not null && !allowed.Contains(value))
        {
            throw OperationException.Invalid(field, $"'{value}' is not one of {string.Join(", ", allowed)}");
        }
    }

    private static string MisfireName(MisfirePolicy policy) => policy switch
    {
        MisfirePolicy.Skip => "skip",
        MisfirePolicy.Coalesce => "coalesce",
        _ => "run_all",
    };

    private static JsonElement Json(string text)
    {
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    private static Duration? Seconds(int? seconds) => seconds is { } s ? Duration.FromSeconds(s) : null;

    /// <summary>Now at PostgreSQL's precision (microseconds), so what is returned equals what is stored.</summary>
    private Instant Now()
    {
        var ticks = Instant.FromDateTimeOffset(time.GetUtcNow()).ToUnixTimeTicks();
        return Instant.FromUnixTimeTicks(ticks - (ticks % 10));
    }

    private static DateTimeOffset Utc(Instant instant) => instant.ToDateTimeOffset();

    private static DateTimeOffset? Utc(Instant? instant) => instant?.ToDateTimeOffset();

    private sealed class DryRunStopException : Exception
    {
        public DryRunStopException()
            : base("dry run: the change is not saved")
        {
        }
    }
}
