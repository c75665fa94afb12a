using Djag.Persistence.Accounts;
using Djag.Persistence.Runs;
using Djag.Persistence.Schedules;
using Djag.Persistence.UserActions;
using Microsoft.EntityFrameworkCore;

namespace Djag.Persistence;

/// <summary>
/// Djag's tables, all in the <c>djag</c> schema.
/// </summary>
/// <remarks>
/// Add a migration after changing the model (from the repository root):
/// <code>dotnet tool restore &amp;&amp; dotnet ef migrations add NAME --project src/Djag.Persistence</code>
/// Migrations are applied by <c>djag-beat migrate</c>, never by EnsureCreated.
/// </remarks>
public sealed class DjagDbContext(DbContextOptions<DjagDbContext> options) : DbContext(options)
{
    public const string Schema = "djag";

    /// <summary>The sequence that orders events observed by the beat (starts, completions, edge changes).</summary>
    public const string EventMarks = "event_marks";

    /// <summary>The PostgreSQL NOTIFY channel the write path signals after every committed change.</summary>
    public const string ChangesChannel = "djag_changes";

    public DbSet<Crontab> Crontabs => Set<Crontab>();
    public DbSet<PeriodicTask> PeriodicTasks => Set<PeriodicTask>();
    public DbSet<TaskDependency> TaskDependencies => Set<TaskDependency>();
    public DbSet<UserAction> UserActions => Set<UserAction>();
    public DbSet<UserActionAudit> UserActionAudits => Set<UserActionAudit>();
    public DbSet<Run> Runs => Set<Run>();
    public DbSet<User> Users => Set<User>();
    public DbSet<ApiToken> ApiTokens => Set<ApiToken>();

    /// <summary>Draws the next event mark, in the caller's transaction.</summary>
    public async Task<long> NextMarkAsync(CancellationToken cancellationToken = default) =>
        await Database
            .SqlQueryRaw<long>($"SELECT nextval('{Schema}.{EventMarks}') AS \"Value\"")
            .SingleAsync(cancellationToken);

    /// <summary>Draws <paramref name="count"/> event marks in one round trip, in ascending order, in the caller's transaction.</summary>
    public async Task<List<long>> NextMarksAsync(int count, CancellationToken cancellationToken = default)
    {
        if (count == 0)
        {
            return [];
        }

        var marks = await Database
            .SqlQueryRaw<long>($"SELECT nextval('{Schema}.{EventMarks}') AS \"Value\" FROM generate_series(1, {{0}})", count)
            .ToListAsync(cancellationToken);
        marks.Sort();
        return marks;
    }

    /// <summary>
    /// Locks the rows of the named tasks that exist until the caller's transaction ends, in id order (so two
    /// transactions locking overlapping sets never deadlock), and loads them with their crontabs.
    /// </summary>
    /// <remarks>
    /// Two statements on purpose. A row locked after waiting for another transaction is returned as that transaction
    /// committed it, but a join in the same statement reads the statement's older snapshot: a task that transaction moved
    /// to a crontab it created would drop out of the result. The load after the lock sees both.
    /// </remarks>
    public async Task<List<PeriodicTask>> LockTasksAsync(IReadOnlyCollection<string> names, CancellationToken cancellationToken = default)
    {
        var list = names as string[] ?? [.. names];
        await Database.ExecuteSqlAsync($"SELECT 1 FROM djag.periodic_tasks WHERE name = ANY({list}) ORDER BY id FOR UPDATE", cancellationToken);
        return await PeriodicTasks.Include(t => t.Crontab).Where(t => list.Contains(t.Name)).OrderBy(t => t.Id).ToListAsync(cancellationToken);
    }

    /// <summary>
    /// Locks the rows of the tasks with these ids until the caller's transaction ends, in id order, and loads them
    /// without their crontabs, in one statement: a row locked after waiting is returned as the other transaction
    /// committed it, and with no join there is no older snapshot to read (see the overload by name).
    /// </summary>
    public Task<List<PeriodicTask>> LockTasksAsync(long[] ids, CancellationToken cancellationToken = default) =>
        PeriodicTasks.FromSql($"SELECT * FROM djag.periodic_tasks WHERE id = ANY({ids}) ORDER BY id FOR UPDATE").ToListAsync(cancellationToken);

    /// <summary>
    /// Locks a task's row until the caller's transaction ends and loads it with its crontab, so the
    /// evaluations and bookkeeping of one task never interleave, in one beat or across several.
    /// </summary>
    public async Task<PeriodicTask?> LockTaskAsync(string name, CancellationToken cancellationToken = default)
    {
        await Database.ExecuteSqlAsync($"SELECT 1 FROM djag.periodic_tasks WHERE name = {name} FOR UPDATE", cancellationToken);
        return await PeriodicTasks.Include(t => t.Crontab).SingleOrDefaultAsync(t => t.Name == name, cancellationToken);
    }

    /// <inheritdoc cref="LockTaskAsync(string, CancellationToken)"/>
    public async Task<PeriodicTask> LockTaskAsync(long id, CancellationToken cancellationToken = default)
    {
        await Database.ExecuteSqlAsync($"SELECT 1 FROM djag.periodic_tasks WHERE id = {id} FOR UPDATE", cancellationToken);
        return await PeriodicTasks.Include(t => t.Crontab).SingleAsync(t => t.Id == id, cancellationToken);
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);
        modelBuilder.HasSequence<long>(EventMarks);
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(DjagDbContext).Assembly);
    }
}
