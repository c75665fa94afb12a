using System.Collections.Concurrent;
using System.Globalization;
using Djag.Beat.Timing;
using Djag.IntegrationTests.Infrastructure;
using Djag.Scheduling;
using Microsoft.Extensions.Time.Testing;
using NodaTime;
using Quartz;

namespace Djag.IntegrationTests.Timing;

/// <summary>The clustered ADO job store in a real PostgreSQL database, with schedulers that are not started.</summary>
public sealed class TimingStoreTests(ServersFixture servers)
{
    private static readonly Instant Pointer = Instant.FromUtc(2026, 3, 1, 11, 59, 30);

    private static FakeTimeProvider Clock() => new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task Provisioning_creates_the_qrtz_tables_once_and_is_idempotent()
    {
        var connectionString = await servers.NewDatabaseAsync("timing");
        const string countTables = "select count(*) from information_schema.tables where table_schema = 'public' and table_name like 'qrtz\\_%'";
        Assert.Equal(0L, await TimingHarness.ScalarAsync<long>(connectionString, countTables));

        await TimingServiceCollectionExtensions.ProvisionSchemaAsync(connectionString, TestContext.Current.CancellationToken);
        var tables = await TimingHarness.ScalarAsync<long>(connectionString, countTables);
        await TimingServiceCollectionExtensions.ProvisionSchemaAsync(connectionString, TestContext.Current.CancellationToken);

        Assert.True(tables >= 11, $"expected Quartz's tables, found {tables}");
        Assert.Equal(tables, await TimingHarness.ScalarAsync<long>(connectionString, countTables));
        Assert.Equal(1L, await TimingHarness.ScalarAsync<long>(connectionString, "select count(*) from information_schema.tables where table_name = 'qrtz_simprop_triggers'"));
    }

    [Fact]
    public async Task Each_task_has_a_qrtz_triggers_row_with_the_cores_next_fire_time()
    {
        var connectionString = await TimingHarness.NewDatabaseAsync(servers);
        await using var beat = TimingHarness.Create(connectionString, "beat-a", new ConcurrentQueue<Fire>(), Clock());
        var hourly = TimingHarness.Timing("hourly report", "0 0 * * * *", Pointer, "Europe/Berlin", MisfirePolicy.Skip, 300);
        var daily = TimingHarness.Timing("daily", "0 30 2 * * *", Pointer, "America/New_York");

        await beat.Timer.SyncAsync([hourly, daily], TestContext.Current.CancellationToken);

        foreach (var timing in new[] { hourly, daily })
        {
            (string, object)[] key = [("name", timing.Name)];
            var next = timing.Schedule.NextAfter(Pointer)!.Value;
            Assert.Equal(next.ToDateTimeOffset().UtcTicks, await TimingHarness.ScalarAsync<long>(connectionString,
                "select next_fire_time from qrtz_triggers where sched_name = 'djag-beat' and trigger_group = 'djag' and trigger_name = @name", key));
            Assert.Equal(DjagTriggerPersistenceDelegate.Discriminator, await TimingHarness.ScalarAsync<string>(connectionString,
                "select trigger_type from qrtz_triggers where trigger_name = @name", key));
            Assert.Equal("WAITING", await TimingHarness.ScalarAsync<string>(connectionString,
                "select trigger_state from qrtz_triggers where trigger_name = @name", key));
            Assert.Equal(timing.Schedule.Fields.Expression, await TimingHarness.ScalarAsync<string>(connectionString,
                "select str_prop_1 from qrtz_simprop_triggers where trigger_name = @name", key));
            Assert.Equal(timing.Schedule.TimeZoneId, await TimingHarness.ScalarAsync<string>(connectionString,
                "select time_zone_id from qrtz_simprop_triggers where trigger_name = @name", key));
            Assert.Equal(timing.Misfire.ToString(), await TimingHarness.ScalarAsync<string>(connectionString,
                "select str_prop_2 from qrtz_simprop_triggers where trigger_name = @name", key));
            Assert.Equal((long)timing.GracePeriod.TotalSeconds, await TimingHarness.ScalarAsync<long>(connectionString,
                "select long_prop_2 from qrtz_simprop_triggers where trigger_name = @name", key));
            // Durable; concurrent on purpose: the dispatcher's row lock serializes a task, so the store need not
            // block and unblock the trigger around every fire; recovered by another beat when its beat dies mid-fire.
            Assert.True(await TimingHarness.ScalarAsync<bool>(connectionString,
                "select is_durable and not is_nonconcurrent and requests_recovery from qrtz_job_details where job_group = 'djag' and job_name = @name", key));
            Assert.Equal(next, await beat.Timer.NextFireTimeAsync(timing.Name, TestContext.Current.CancellationToken));
        }
    }

    [Fact]
    public async Task A_second_beat_on_the_same_tables_loads_the_same_trigger()
    {
        var connectionString = await TimingHarness.NewDatabaseAsync(servers);
        var timing = TimingHarness.Timing("etl", "*/20 15 3 * * 1-5", Pointer, "Asia/Kolkata", MisfirePolicy.Coalesce, 45);
        await using (var first = TimingHarness.Create(connectionString, "beat-a", new ConcurrentQueue<Fire>(), Clock()))
        {
            await first.Timer.ScheduleAsync(timing, TestContext.Current.CancellationToken);
        }

        await using var second = TimingHarness.Create(connectionString, "beat-b", new ConcurrentQueue<Fire>(), Clock());
        var scheduler = await second.SchedulerAsync();
        var loaded = Assert.IsType<DjagTrigger>(await scheduler.GetTrigger(TaskTimer.TriggerKeyOf("etl"), TestContext.Current.CancellationToken));

        Assert.Equal("*/20 15 3 * * 1-5", loaded.CronExpression);
        Assert.Equal("Asia/Kolkata", loaded.TimeZoneId);
        Assert.Equal(Pointer, loaded.StartAfter);
        Assert.Equal(MisfirePolicy.Coalesce, loaded.Misfire);
        Assert.Equal(Duration.FromSeconds(45), loaded.GracePeriod);
        Assert.Equal(timing.Schedule.NextAfter(Pointer)?.ToDateTimeOffset(), loaded.NextFireTimeUtc);
        Assert.Equal(new JobKey("etl", "djag"), loaded.JobKey);
        var job = await scheduler.GetJobDetail(TaskTimer.JobKeyOf("etl"), TestContext.Current.CancellationToken);
        Assert.Equal(typeof(DueTaskJob), job?.JobType.Type);
    }

    [Fact]
    public async Task Sync_adds_replaces_and_removes()
    {
        var ct = TestContext.Current.CancellationToken;
        var connectionString = await TimingHarness.NewDatabaseAsync(servers);
        await using var beat = TimingHarness.Create(connectionString, "beat-a", new ConcurrentQueue<Fire>(), Clock());
        var a = TimingHarness.Timing("a", "0 0 * * * *", Pointer);
        var b = TimingHarness.Timing("b", "0 0 * * * *", Pointer);
        await beat.Timer.SyncAsync([a, b], ct);
        Assert.Equal(Instant.FromUtc(2026, 3, 1, 12, 0), await beat.Timer.NextFireTimeAsync("b", ct));

        var bEvery15 = b with { Schedule = CronSchedule.Parse("0 */15 * * * *") };
        var c = TimingHarness.Timing("c", "0 0 0 * * *", Pointer);
        await beat.Timer.SyncAsync([a, bEvery15, c], ct);

        Assert.Equal(Instant.FromUtc(2026, 3, 1, 12, 0), await beat.Timer.NextFireTimeAsync("a", ct));
        Assert.Equal(bEvery15.Schedule.NextAfter(Pointer), await beat.Timer.NextFireTimeAsync("b", ct));
        Assert.Equal("0 */15 * * * *", await TimingHarness.ScalarAsync<string>(connectionString, "select str_prop_1 from qrtz_simprop_triggers where trigger_name = 'b'"));
        Assert.Equal(Instant.FromUtc(2026, 3, 2, 0, 0), await beat.Timer.NextFireTimeAsync("c", ct));

        await beat.Timer.SyncAsync([c], ct);

        Assert.Null(await beat.Timer.NextFireTimeAsync("a", ct));
        Assert.Null(await beat.Timer.NextFireTimeAsync("b", ct));
        Assert.NotNull(await beat.Timer.NextFireTimeAsync("c", ct));
        Assert.Equal(1L, await TimingHarness.ScalarAsync<long>(connectionString, "select count(*) from qrtz_triggers"));
        Assert.Equal(1L, await TimingHarness.ScalarAsync<long>(connectionString, "select count(*) from qrtz_job_details"));
        Assert.Equal(1L, await TimingHarness.ScalarAsync<long>(connectionString, "select count(*) from qrtz_simprop_triggers"));

        await beat.Timer.UnscheduleAsync("c", ct);
        await beat.Timer.UnscheduleAsync("never-there", ct);
        Assert.Equal(0L, await TimingHarness.ScalarAsync<long>(connectionString, "select count(*) from qrtz_job_details"));
    }

    [Fact]
    public async Task An_unchanged_task_keeps_its_trigger_and_a_moved_pointer_replaces_it_only_when_the_next_event_moves()
    {
        // events "0 * * * * *":  11:59:00 │ ptr 11:59:30 │ 12:00:00 │ 12:01:00
        // pointer 11:59:45 still leads to 12:00 → trigger kept (start-after stays 11:59:30)
        // pointer 12:00:00 leads to 12:01      → trigger replaced
        var ct = TestContext.Current.CancellationToken;
        var connectionString = await TimingHarness.NewDatabaseAsync(servers);
        await using var beat = TimingHarness.Create(connectionString, "beat-a", new ConcurrentQueue<Fire>(), Clock());
        var timing = TimingHarness.Timing("m", "0 * * * * *", Pointer);
        const string startAfter = "select long_prop_1 from qrtz_simprop_triggers where trigger_name = 'm'";
        await beat.Timer.ScheduleAsync(timing, ct);

        await beat.Timer.ScheduleAsync(timing, ct);
        await beat.Timer.ScheduleAsync(timing with { StartAfter = Pointer + Duration.FromSeconds(15) }, ct);

        Assert.Equal(Pointer.ToUnixTimeTicks(), await TimingHarness.ScalarAsync<long>(connectionString, startAfter));
        Assert.Equal(Instant.FromUtc(2026, 3, 1, 12, 0), await beat.Timer.NextFireTimeAsync("m", ct));

        var moved = Instant.FromUtc(2026, 3, 1, 12, 0);
        await beat.Timer.ScheduleAsync(timing with { StartAfter = moved }, ct);

        Assert.Equal(moved.ToUnixTimeTicks(), await TimingHarness.ScalarAsync<long>(connectionString, startAfter));
        Assert.Equal(Instant.FromUtc(2026, 3, 1, 12, 1), await beat.Timer.NextFireTimeAsync("m", ct));
    }

    [Fact]
    public async Task A_restart_leaves_unchanged_triggers_untouched_replaces_changed_ones_and_removes_deleted_ones()
    {
        // More tasks than one slice of the bulk sync, so the slices are exercised as a restart sees them.
        var ct = TestContext.Current.CancellationToken;
        var connectionString = await TimingHarness.NewDatabaseAsync(servers);
        var timings = Enumerable.Range(0, 1_201)
            .Select(i => TimingHarness.Timing($"t{i:D4}", $"0 {i % 60} * * * *", Pointer, i % 2 == 0 ? "UTC" : "Europe/Berlin", MisfirePolicy.Coalesce, i % 7))
            .ToList();
        await using (var before = TimingHarness.Create(connectionString, "beat-a", new ConcurrentQueue<Fire>(), Clock()))
        {
            await before.Timer.SyncAsync(timings, ct);
        }

        // As if each trigger had fired once: a previous fire time the restart must keep.
        var fired = Pointer.ToDateTimeOffset().AddMinutes(-1).UtcTicks;
        await TimingHarness.ScalarAsync<long>(connectionString, "update qrtz_triggers set prev_fire_time = @fired", ("fired", fired));
        const string rows = "select trigger_name, next_fire_time, prev_fire_time, xmin::text from qrtz_triggers order by trigger_name";
        var stored = await TimingHarness.RowsAsync(connectionString, rows);

        var changed = timings[600] with { Schedule = CronSchedule.Parse("0 */5 * * * *", "Asia/Tokyo") };
        var graceChanged = timings[601] with { GracePeriod = Duration.FromSeconds(60) };
        var kept = timings.Where((_, i) => i is not (600 or 601 or 1_000)).ToList();
        await using (var after = TimingHarness.Create(connectionString, "beat-a", new ConcurrentQueue<Fire>(), Clock()))
        {
            await after.Timer.SyncAsync([.. kept, changed, graceChanged], ct);
        }

        var restarted = (await TimingHarness.RowsAsync(connectionString, rows)).ToDictionary(r => r[0]);
        Assert.Equal(1_200, restarted.Count);
        Assert.DoesNotContain("t1000", restarted.Keys);
        Assert.Equal(0L, await TimingHarness.ScalarAsync<long>(connectionString, "select count(*) from qrtz_job_details where job_name = 't1000'"));
        Assert.Equal(1_200L, await TimingHarness.ScalarAsync<long>(connectionString, "select count(*) from qrtz_simprop_triggers"));

        // Unchanged tasks: the very same row versions, so next and previous fire times are untouched.
        var keptNames = kept.Select(k => k.Name).ToHashSet(StringComparer.Ordinal);
        var untouched = stored.Where(r => keptNames.Contains(r[0])).ToList();
        Assert.Equal(1_198, untouched.Count);
        Assert.All(untouched, row => Assert.Equal(row, restarted[row[0]]));

        // Changed tasks: a new trigger on the new schedule that keeps the previous fire time.
        var changedRow = restarted["t0600"];
        Assert.Equal(changed.Schedule.NextAfter(Pointer)!.Value.ToDateTimeOffset().UtcTicks.ToString(CultureInfo.InvariantCulture), changedRow[1]);
        Assert.Equal(fired.ToString(CultureInfo.InvariantCulture), changedRow[2]);
        Assert.NotEqual(stored.Single(r => r[0] == "t0600")[3], changedRow[3]);
        Assert.Equal("0 */5 * * * *", await TimingHarness.ScalarAsync<string>(connectionString, "select str_prop_1 from qrtz_simprop_triggers where trigger_name = 't0600'"));
        Assert.Equal("Asia/Tokyo", await TimingHarness.ScalarAsync<string>(connectionString, "select time_zone_id from qrtz_simprop_triggers where trigger_name = 't0600'"));
        Assert.Equal(60L, await TimingHarness.ScalarAsync<long>(connectionString, "select long_prop_2 from qrtz_simprop_triggers where trigger_name = 't0601'"));
        Assert.NotEqual(stored.Single(r => r[0] == "t0601")[3], restarted["t0601"][3]);
        Assert.Equal(fired.ToString(CultureInfo.InvariantCulture), restarted["t0601"][2]);
    }

    [Fact]
    public async Task A_stored_trigger_reads_back_as_written_and_compares_with_the_task_timing()
    {
        var ct = TestContext.Current.CancellationToken;
        var connectionString = await TimingHarness.NewDatabaseAsync(servers);
        await using var beat = TimingHarness.Create(connectionString, "beat-a", new ConcurrentQueue<Fire>(), Clock());
        var timing = TimingHarness.Timing("t", "0 15 3 * * 1-5", Pointer, "America/New_York", MisfirePolicy.Coalesce, 90);
        var stored = new StoredTriggers(connectionString);
        await beat.Timer.ScheduleAsync(timing, ct);
        await TimingHarness.ScalarAsync<long>(connectionString, "update qrtz_triggers set prev_fire_time = @fired", ("fired", Pointer.ToDateTimeOffset().UtcTicks));

        var row = Assert.Single(await stored.ReadAsync(["t", "absent"], ct)).Value;

        Assert.Equal(new StoredTrigger("0 15 3 * * 1-5", "America/New_York", MisfirePolicy.Coalesce, Duration.FromSeconds(90), Pointer,
            timing.Schedule.NextAfter(Pointer), Pointer.ToDateTimeOffset()), row);
        Assert.True(row.HasSameScheduleAs(timing));
        Assert.False(row.HasSameScheduleAs(timing with { GracePeriod = Duration.FromSeconds(91) }));
        Assert.False(row.HasSameScheduleAs(timing with { Misfire = MisfirePolicy.Skip }));
        Assert.False(row.HasSameScheduleAs(timing with { Schedule = CronSchedule.Parse("0 15 3 * * 1-5", "Europe/Berlin") }));
    }

    [Fact]
    public async Task New_tasks_copied_from_the_first_are_stored_exactly_as_Quartz_stores_them()
    {
        var ct = TestContext.Current.CancellationToken;
        TaskTiming[] timings =
        [
            TimingHarness.Timing("a", "0 0 * * * *", Pointer),
            TimingHarness.Timing("b report", "0 15 3 * * 1-5", Pointer.Minus(Duration.FromDays(3)), "America/New_York", MisfirePolicy.Coalesce, 90),
            TimingHarness.Timing("c", "*/20 15 3 * * *", Pointer, "Asia/Kolkata", MisfirePolicy.Skip, 45),
            TimingHarness.Timing("d'; drop table qrtz_locks; --", "0 30 2 * * *", Pointer.Plus(Duration.FromMilliseconds(1.5)), "Europe/Berlin"),
        ];
        var copied = await TimingHarness.NewDatabaseAsync(servers);
        var oneByOne = await TimingHarness.NewDatabaseAsync(servers);
        await using (var beat = TimingHarness.Create(copied, "beat-a", new ConcurrentQueue<Fire>(), Clock()))
        {
            await beat.Timer.ApplyAsync(timings, [], ct);
        }

        await using (var beat = TimingHarness.Create(oneByOne, "beat-a", new ConcurrentQueue<Fire>(), Clock()))
        {
            foreach (var timing in timings)
            {
                await beat.Timer.ScheduleAsync(timing, ct);
            }
        }

        foreach (var table in new[] { "qrtz_job_details", "qrtz_triggers", "qrtz_simprop_triggers" })
        {
            var sql = $"select r::text from {table} r order by 1";
            var expected = await TimingHarness.RowsAsync(oneByOne, sql);
            Assert.Equal(timings.Length, expected.Count);
            Assert.Equal(expected, await TimingHarness.RowsAsync(copied, sql));
        }

        // Quartz wrote the first and the other three were copied in one transaction; one by one, each had its own.
        const string transactions = "select count(distinct xmin::text) from qrtz_triggers";
        Assert.Equal(2L, await TimingHarness.ScalarAsync<long>(copied, transactions));
        Assert.Equal(4L, await TimingHarness.ScalarAsync<long>(oneByOne, transactions));
    }

    [Fact]
    public async Task A_copy_leaves_to_Quartz_the_tasks_stored_meanwhile_and_everything_once_the_template_has_fired()
    {
        var ct = TestContext.Current.CancellationToken;
        var connectionString = await TimingHarness.NewDatabaseAsync(servers);
        await using var beat = TimingHarness.Create(connectionString, "beat-a", new ConcurrentQueue<Fire>(), Clock());
        var stored = new StoredTriggers(connectionString);
        var template = TimingHarness.Timing("template", "0 0 * * * *", Pointer);
        var meanwhile = TimingHarness.Timing("meanwhile", "0 0 * * * *", Pointer);
        await beat.Timer.ApplyAsync([template], [], ct);
        await beat.Timer.ApplyAsync([meanwhile with { Schedule = CronSchedule.Parse("0 30 * * * *") }], [], ct);
        DjagTrigger Build(TaskTiming timing) => TaskTimer.BuildTrigger(timing, Clock());

        var copied = await stored.CopyAsync(Build(template), [Build(meanwhile), Build(TimingHarness.Timing("new", "0 0 * * * *", Pointer))], ct);

        Assert.Equal("new", Assert.Single(copied).Key.Name);
        Assert.Equal(Instant.FromUtc(2026, 3, 1, 12, 30), await beat.Timer.NextFireTimeAsync("meanwhile", ct));
        Assert.Equal(Instant.FromUtc(2026, 3, 1, 12, 0), await beat.Timer.NextFireTimeAsync("new", ct));

        await TimingHarness.ScalarAsync<long>(connectionString, "update qrtz_triggers set prev_fire_time = next_fire_time where trigger_name = 'template'");
        Assert.Empty(await stored.CopyAsync(Build(template), [Build(TimingHarness.Timing("late", "0 0 * * * *", Pointer))], ct));
        Assert.Equal(0L, await TimingHarness.ScalarAsync<long>(connectionString, "select count(*) from qrtz_job_details where job_name = 'late'"));
    }

    [Fact]
    public async Task Applying_a_batch_schedules_replaces_and_unschedules_in_one_call()
    {
        var ct = TestContext.Current.CancellationToken;
        var connectionString = await TimingHarness.NewDatabaseAsync(servers);
        await using var beat = TimingHarness.Create(connectionString, "beat-a", new ConcurrentQueue<Fire>(), Clock());
        var a = TimingHarness.Timing("a", "0 0 * * * *", Pointer);
        var b = TimingHarness.Timing("b", "0 0 * * * *", Pointer);
        await beat.Timer.ApplyAsync([a, b], [], ct);

        var neverFires = TimingHarness.Timing("c", "0 0 0 30 2 *", Pointer);
        await beat.Timer.ApplyAsync([b with { Schedule = CronSchedule.Parse("0 30 * * * *") }, neverFires], ["a", "never-there"], ct);

        Assert.Null(await beat.Timer.NextFireTimeAsync("a", ct));
        Assert.Equal(Instant.FromUtc(2026, 3, 1, 12, 30), await beat.Timer.NextFireTimeAsync("b", ct));
        Assert.Null(await beat.Timer.NextFireTimeAsync("c", ct));
        Assert.Equal(1L, await TimingHarness.ScalarAsync<long>(connectionString, "select count(*) from qrtz_job_details"));
    }
}
