using Djag.Persistence.Accounts;
using Djag.Persistence.Runs;
using Djag.Persistence.Schedules;
using Djag.Persistence.UserActions;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

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

    /// <summary>
    /// A batch on this context's connection, opened if need be, and in its transaction: statements that EF Core would
    /// send in a round trip each, sent in one.
    /// </summary>
    public async Task<NpgsqlBatch> CreateBatchAsync(CancellationToken cancellationToken = default)
    {
        var connection = (NpgsqlConnection)Database.GetDbConnection();
        if (connection.State != System.Data.ConnectionState.Open)
        {
            await Database.OpenConnectionAsync(cancellationToken);
        }

        return new NpgsqlBatch(connection, (NpgsqlTransaction?)Database.CurrentTransaction?.GetDbTransaction());
    }

    /// <summary>Draws <paramref name="count"/> event marks in one round trip, in ascending order, in the caller's transaction.</summary>
    public async Task<List<long>> NextMarksAsync(int count, CancellationToken cancellationToken = default)
    {
        if (count == 0)
        {
            return [];
        }

        await using var batch = await CreateBatchAsync(cancellationToken);
        batch.BatchCommands.Add(NextMarksCommand(count));
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        return await ReadMarksAsync(reader, count, cancellationToken);
    }

    /// <summary>A statement that draws <paramref name="count"/> event marks, to send in a batch with others.</summary>
    public static NpgsqlBatchCommand NextMarksCommand(int count) =>
        new($"SELECT nextval('{Schema}.{EventMarks}') FROM generate_series(1, $1)") { Parameters = { new() { Value = count } } };

    /// <summary>Reads the result of <see cref="NextMarksCommand"/>, in ascending order.</summary>
    public static async Task<List<long>> ReadMarksAsync(NpgsqlDataReader reader, int count, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var marks = new List<long>(count);
        while (await reader.ReadAsync(cancellationToken))
        {
            marks.Add(reader.GetInt64(0));
        }

        marks.Sort();
        return marks;
    }

    /// <summary>
    /// A statement that locks the rows of the named tasks until the caller's transaction ends, in id order, so two
    /// transactions locking overlapping sets never deadlock.
    /// </summary>
    /// <remarks>
    /// Load the tasks in a later statement, not in the locking one: a row locked after waiting for another transaction is
    /// returned as that transaction committed it, but everything else the statement reads comes from the statement's
    /// older snapshot. That includes a joined crontab and the task's scheduler state, which EF Core reads through a join
    /// of the table to itself even when the query is only <c>FromSql</c> over the locking statement.
    /// </remarks>
    public static NpgsqlBatchCommand LockTasksCommand(string[] names) =>
        new("SELECT 1 FROM djag.periodic_tasks WHERE name = ANY($1) ORDER BY id FOR UPDATE") { Parameters = { new() { Value = names } } };

    /// <inheritdoc cref="LockTasksCommand(string[])"/>
    public static NpgsqlBatchCommand LockTasksCommand(long[] ids) =>
        new("SELECT 1 FROM djag.periodic_tasks WHERE id = ANY($1) ORDER BY id FOR UPDATE") { Parameters = { new() { Value = ids } } };

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
