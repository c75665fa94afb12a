using Microsoft.Extensions.Options;
using Npgsql;
using Quartz;
using Quartz.Impl.AdoJobStore;

namespace Djag.Beat.Timing;

/// <summary>
/// Quartz.NET as the beat's timing engine: the clustered ADO job store in PostgreSQL (tables
/// <c>public.qrtz_*</c>, scheduler name <see cref="SchedulerName"/>), Djag triggers and the job that calls
/// <see cref="IDueTaskHandler"/>.
/// </summary>
internal static class TimingServiceCollectionExtensions
{
    /// <summary>The <c>sched_name</c> of every row the beats write in the <c>qrtz_</c> tables.</summary>
    public const string SchedulerName = "djag-beat";

    /// <summary>The tables' prefix, in the connection's default schema (<c>public</c>).</summary>
    public const string TablePrefix = "qrtz_";

    private const string SchemaResource = "Quartz.Impl.AdoJobStore.Schema.create_postgres.sql";

    /// <summary>
    /// Registers Quartz (clustered ADO store on <paramref name="connectionString"/>, the container's
    /// <see cref="TimeProvider"/>, System.Text.Json serializer), its hosted service and <see cref="TaskTimer"/>.
    /// The caller registers <see cref="IDueTaskHandler"/> and runs <see cref="ProvisionSchemaAsync"/> before the
    /// first start; the scheduler refuses to start on a database without the <c>qrtz_</c> tables.
    /// </summary>
    public static IServiceCollection AddDjagTiming(this IServiceCollection services, string connectionString, Action<TimingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);

        // Quartz's thread pool and cluster settings are fixed when it is registered, so the options are
        // read and validated here as well as on start.
        var options = new TimingOptions();
        configure?.Invoke(options);
        options.EnsureValid();
        services.AddOptions<TimingOptions>()
            .Configure(o => configure?.Invoke(o))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<TimingOptions>, TimingOptionsValidator>();

        services.AddQuartz(quartz =>
        {
            quartz.ConfigureScheduler(scheduler =>
            {
                scheduler.InstanceName = SchedulerName;
                if (options.InstanceId is { } id)
                {
                    scheduler.InstanceId = id;
                }

                scheduler.IdleWaitTime = options.IdleWaitTime;
                scheduler.MaxBatchSize = options.MaxBatchSize;
                scheduler.BatchTriggerAcquisitionFireAheadTimeWindow = options.BatchFireAheadWindow;
            });
            quartz.UseDefaultThreadPool(options.ThreadCount);
            quartz.UsePersistentStore(store =>
            {
                store.UsePostgres(NpgsqlFactory.Instance, PoolOfItsOwn(connectionString, options.ConnectionPoolSize));
                store.ConfigureStore(ado =>
                {
                    ado.TablePrefix = TablePrefix;
                    ado.MisfireThreshold = options.MisfireThreshold;
                });
                store.UseClustering(cluster =>
                {
                    cluster.CheckinInterval = options.CheckinInterval;
                    cluster.CheckinMisfireThreshold = options.CheckinMisfireThreshold;
                });
                store.UseSystemTextJsonSerializer();
                store.UseTriggerPersistenceDelegate(provider => new DjagTriggerPersistenceDelegate(provider.GetRequiredService<TimeProvider>()));
            });
        });
        services.AddQuartzHostedService(hosted => hosted.WaitForJobsToComplete = true);
        services.AddSingleton(new StoredTriggers(connectionString));
        services.AddSingleton<TaskTimer>();
        return services;
    }

    /// <summary>
    /// <paramref name="connectionString"/> for a pool of Quartz's own (Npgsql keeps one per connection string) of at most
    /// <paramref name="size"/> connections, told apart in <c>pg_stat_activity</c> by its application name.
    /// </summary>
    internal static string PoolOfItsOwn(string connectionString, int size)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        builder.ApplicationName = string.IsNullOrEmpty(builder.ApplicationName) ? $"{SchedulerName} timing" : $"{builder.ApplicationName} timing";
        builder.MaxPoolSize = size;
        builder.MinPoolSize = Math.Min(builder.MinPoolSize, size);
        return builder.ConnectionString;
    }

    /// <summary>
    /// Creates the <c>qrtz_</c> tables and indexes that are missing, from the PostgreSQL script shipped inside
    /// Quartz (every statement is <c>CREATE ... IF NOT EXISTS</c>, so running it again changes nothing).
    /// Called by <c>djag-beat migrate</c>.
    /// </summary>
    public static async Task ProvisionSchemaAsync(string connectionString, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var script = await ReadSchemaScriptAsync(cancellationToken);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        // Two beats migrating at once must not race on CREATE ... IF NOT EXISTS (it is not atomic in PostgreSQL).
        await using (var lockCommand = new NpgsqlCommand("select pg_advisory_xact_lock(hashtext('djag.qrtz_schema'))", connection, transaction))
        {
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }

        foreach (var statement in SplitStatements(script))
        {
            await using var command = new NpgsqlCommand(statement, connection, transaction);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    private static async Task<string> ReadSchemaScriptAsync(CancellationToken cancellationToken)
    {
        var assembly = typeof(StdAdoDelegate).Assembly;
        await using var stream = assembly.GetManifestResourceStream(SchemaResource)
            ?? throw new InvalidOperationException($"Quartz {assembly.GetName().Version} does not ship the resource {SchemaResource}; this beat was built against Quartz 4.7");
        using var reader = new StreamReader(stream);
        var text = await reader.ReadToEndAsync(cancellationToken);

        // {0}: the prefix as written before table names; {1}: the same without a schema, for index and constraint names.
        return text.Replace("{0}", TablePrefix, StringComparison.Ordinal).Replace("{1}", TablePrefix, StringComparison.Ordinal);
    }

    /// <summary>The script separates statements with a line reading exactly <c>--;;</c>.</summary>
    private static IEnumerable<string> SplitStatements(string script)
    {
        var current = new List<string>();
        foreach (var line in script.Split('\n'))
        {
            if (line.TrimEnd('\r') == "--;;")
            {
                if (ToStatement(current) is { } statement)
                {
                    yield return statement;
                }

                current.Clear();
            }
            else
            {
                current.Add(line.TrimEnd('\r'));
            }
        }

        if (ToStatement(current) is { } last)
        {
            yield return last;
        }
    }

    private static string? ToStatement(List<string> lines)
    {
        var code = lines.Where(l => !l.TrimStart().StartsWith("--", StringComparison.Ordinal)).ToList();
        return code.Any(l => !string.IsNullOrWhiteSpace(l)) ? string.Join('\n', lines).Trim() : null;
    }
}
