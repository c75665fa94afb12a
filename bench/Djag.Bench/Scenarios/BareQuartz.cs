using System.Collections.Concurrent;
using Djag.Bench.Infrastructure;
using Djag.Bench.Reporting;
using Djag.Persistence;
using Npgsql;
using Quartz;

namespace Djag.Bench.Scenarios;

/// <summary>
/// Quartz alone, as the beat configures it (clustered ADO store on the same PostgreSQL, the same thread count, batch
/// size, fire-ahead window, misfire threshold and check-in), with plain cron triggers whose job only records when it ran.
/// The difference to Djag's lateness is Djag's own work on the fire path.
/// </summary>
internal sealed class BareQuartz : IAsyncDisposable
{
    private readonly StandaloneSchedulerFactory _factory;
    private readonly IScheduler _scheduler;
    private readonly FireRecorder _recorder;

    private BareQuartz(string connectionString, StandaloneSchedulerFactory factory, IScheduler scheduler, FireRecorder recorder)
    {
        ConnectionString = connectionString;
        _factory = factory;
        _scheduler = scheduler;
        _recorder = recorder;
    }

    public string ConnectionString { get; }

    public static async Task<BareQuartz> StartAsync(BenchContext bench, CancellationToken ct)
    {
        var connectionString = await bench.Servers.CreateDatabaseAsync("quartz", ct);

        // The same qrtz_ tables the beat uses, provisioned the same way.
        await DjagCluster.MigrateAsync(connectionString, ct);
        var factory = QuartzSchedulerBuilder.Create(quartz =>
        {
            // The beat's defaults (src/Djag.Beat/Timing/TimingOptions.cs).
            quartz.ConfigureScheduler(scheduler =>
            {
                scheduler.InstanceName = "bench-quartz";
                scheduler.InstanceId = "bench-quartz-1";
                scheduler.IdleWaitTime = TimeSpan.FromSeconds(5);
                scheduler.MaxBatchSize = 100;
                scheduler.BatchTriggerAcquisitionFireAheadTimeWindow = TimeSpan.FromMilliseconds(500);
            });
            quartz.UseDefaultThreadPool(200);
            quartz.UsePersistentStore(store =>
            {
                store.UsePostgres(NpgsqlFactory.Instance, new NpgsqlConnectionStringBuilder(DjagDbContextOptions.WithPreparedStatements(connectionString)) { MaxPoolSize = 10 }.ConnectionString);
                store.ConfigureStore(ado =>
                {
                    ado.TablePrefix = "qrtz_";
                    ado.MisfireThreshold = TimeSpan.FromSeconds(10);
                });
                store.UseClustering(cluster =>
                {
                    cluster.CheckinInterval = TimeSpan.FromSeconds(5);
                    cluster.CheckinMisfireThreshold = TimeSpan.FromSeconds(5);
                });
                store.UseSystemTextJsonSerializer();
            });
        }).Build();
        var scheduler = await factory.GetScheduler(ct);
        var recorder = new FireRecorder();
        scheduler.Context[FireRecorder.Key] = recorder;
        await scheduler.Start(ct);
        return new BareQuartz(connectionString, factory, scheduler, recorder);
    }

    /// <summary>
    /// Lateness (ms) of <paramref name="n"/> cron triggers due on the same second: job start − scheduled fire time; and the
    /// share of all cores' time that was busy from that second to the last fire.
    /// </summary>
    public async Task<(Distribution Lateness, double BusyToLastFire)> FireAsync(int n, CancellationToken ct)
    {
        var ahead = TimeSpan.FromSeconds(3 + (n * 0.003));
        for (var attempt = 1; ; attempt++)
        {
            _recorder.Clear();
            var at = Schedules.WholeSecondAfter(ahead);
            var cron = $"{at.Second} {at.Minute} {at.Hour} * * ?";
            var jobs = new Dictionary<IJobDetail, IReadOnlyCollection<ITrigger>>();
            for (var i = 0; i < n; i++)
            {
                var job = JobBuilder.Create<RecordFireJob>().WithIdentity($"q{n}-{attempt}-{i:D6}", "bench").Build();
                jobs[job] = [TriggerBuilder.Create().WithIdentity(job.Key.Name, "bench").ForJob(job)
                    .WithCronSchedule(cron, c => c.InTimeZone(TimeZoneInfo.Utc)).Build()];
            }

            await _scheduler.ScheduleJobs(jobs, ScheduleJobOptions.Replacing, ct);
            await Servers.AnalyzeAsync(ConnectionString, ct);
            var inTime = TimeProvider.System.GetUtcNow() < at - TimeSpan.FromMilliseconds(300);
            await using var busy = new BusySampler(at);
            await _recorder.WaitAsync(n, Schedules.TimeLimit(n), ct);
            var share = busy.ShareUntil(_recorder.Samples.Max(s => s.Ran));
            await _scheduler.Clear(ct);
            if (inTime || attempt == 2)
            {
                return (Distribution.Of(_recorder.Samples.Select(s => (s.Ran - s.Scheduled).TotalMilliseconds)), share);
            }

            ahead *= 3;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _scheduler.Shutdown(waitForJobsToComplete: true);
        await _factory.DisposeAsync();
    }

    /// <summary>Where the jobs record their runs; the scheduler context hands it to them.</summary>
    internal sealed class FireRecorder
    {
        public const string Key = "bench.recorder";

        private ConcurrentQueue<(DateTimeOffset Scheduled, DateTimeOffset Ran)> _samples = new();

        public IReadOnlyCollection<(DateTimeOffset Scheduled, DateTimeOffset Ran)> Samples => _samples;

        public void Clear() => _samples = new();

        public void Add(DateTimeOffset scheduled, DateTimeOffset ran) => _samples.Enqueue((scheduled, ran));

        public async Task WaitAsync(int count, TimeSpan timeout, CancellationToken ct)
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
            limit.CancelAfter(timeout);
            while (_samples.Count < count)
            {
                try
                {
                    await Task.Delay(20, limit.Token);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    throw new TimeoutException($"bare Quartz fired {_samples.Count} of {count} triggers within {timeout.TotalSeconds:0} s");
                }
            }
        }
    }

    /// <summary>Records its fire time and nothing else.</summary>
    internal sealed class RecordFireJob : IJob
    {
        public ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(context);
            var ran = TimeProvider.System.GetUtcNow();
            ((FireRecorder)context.Scheduler.Context[FireRecorder.Key]!).Add(context.ScheduledFireTimeUtc ?? context.FireTimeUtc, ran);
            return ValueTask.CompletedTask;
        }
    }
}
