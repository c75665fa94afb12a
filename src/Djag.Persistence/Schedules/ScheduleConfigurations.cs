using Djag.Persistence.Operations;
using Djag.Scheduling;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Djag.Persistence.Schedules;

internal sealed class CrontabConfiguration : IEntityTypeConfiguration<Crontab>
{
    public void Configure(EntityTypeBuilder<Crontab> builder)
    {
        builder.ToTable("crontabs");
        builder.Property(c => c.Second).HasMaxLength(200).HasDefaultValue("0");
        builder.Property(c => c.Minute).HasMaxLength(200);
        builder.Property(c => c.Hour).HasMaxLength(200);
        builder.Property(c => c.DayOfMonth).HasMaxLength(200);
        builder.Property(c => c.MonthOfYear).HasMaxLength(200);
        builder.Property(c => c.DayOfWeek).HasMaxLength(200);
        builder.Property(c => c.Timezone).HasMaxLength(64);
        builder.Ignore(c => c.Expression);
    }
}

internal sealed class PeriodicTaskConfiguration : IEntityTypeConfiguration<PeriodicTask>
{
    public void Configure(EntityTypeBuilder<PeriodicTask> builder)
    {
        builder.ToTable("periodic_tasks", t =>
        {
            t.HasCheckConstraint("ck_periodic_tasks_priority", "priority BETWEEN 0 AND 255");
            t.HasCheckConstraint("ck_periodic_tasks_one_misfire_policy", "NOT (skip_misfire AND coalesce_misfire)");
            t.HasCheckConstraint("ck_periodic_tasks_grace_with_policy", "grace_period IS NOT NULL OR NOT (skip_misfire OR coalesce_misfire)");
            t.HasCheckConstraint("ck_periodic_tasks_grace_period", "grace_period IS NULL OR grace_period >= 0");
            t.HasCheckConstraint("ck_periodic_tasks_args_array", "jsonb_typeof(args) = 'array'");
            t.HasCheckConstraint("ck_periodic_tasks_kwargs_object", "jsonb_typeof(kwargs) = 'object'");
            t.HasCheckConstraint("ck_periodic_tasks_headers_object", "jsonb_typeof(headers) = 'object'");
            t.HasCheckConstraint("ck_periodic_tasks_max_catchup", "max_catchup IS NULL OR max_catchup >= 1");
            t.HasCheckConstraint("ck_periodic_tasks_max_running", "max_running IS NULL OR max_running >= 1");
            t.HasCheckConstraint("ck_periodic_tasks_retries", "max_retries >= 0 AND retry_backoff >= 0");
            t.HasCheckConstraint("ck_periodic_tasks_timeout", "timeout IS NULL OR timeout >= 1");
            t.HasCheckConstraint("ck_periodic_tasks_name", "length(name) BETWEEN 1 AND 200");
            t.HasCheckConstraint("ck_periodic_tasks_task", "length(task) BETWEEN 1 AND 200");
            t.HasCheckConstraint("ck_periodic_tasks_queue", "queue ~ '^[A-Za-z0-9_-]{1,64}$'");
            t.HasCheckConstraint("ck_periodic_tasks_running", "running >= 0");
        });
        builder.HasIndex(t => t.Name).IsUnique();
        builder.HasIndex(t => t.Task);
        builder.Property(t => t.Name).HasMaxLength(200);
        builder.Property(t => t.Task).HasMaxLength(200);
        builder.Property(t => t.Queue).HasMaxLength(64).HasDefaultValue("default");
        builder.Property(t => t.Args).HasColumnType("jsonb").HasDefaultValueSql("'[]'::jsonb");
        builder.Property(t => t.Kwargs).HasColumnType("jsonb").HasDefaultValueSql("'{}'::jsonb");
        builder.Property(t => t.Headers).HasColumnType("jsonb").HasDefaultValueSql("'{}'::jsonb");
        builder.Property(t => t.Description).HasDefaultValue("");
        builder.HasOne(t => t.Crontab).WithMany(c => c.Tasks).HasForeignKey(t => t.CrontabId).OnDelete(DeleteBehavior.Restrict);

        // The scheduler state lives in the same row, with the original's column names.
        builder.OwnsOne(t => t.State, s =>
        {
            s.Property(x => x.Running).HasColumnName("running").HasDefaultValue(0);
            s.Property(x => x.LastCron).HasColumnName("last_cron");
            s.Property(x => x.LastCronStart).HasColumnName("last_cron_start");
            s.Property(x => x.LastCronEnd).HasColumnName("last_cron_end");
            s.Property(x => x.TotalRunCount).HasColumnName("total_run_count").HasDefaultValue(0L);
            s.Property(x => x.CronPointer).HasColumnName("cron_pointer");
            s.Property(x => x.LastStartMark).HasColumnName("last_start_mark");
            s.Property(x => x.LastSuccessMark).HasColumnName("last_success_mark");
            s.Property(x => x.LastCompletionMark).HasColumnName("last_completion_mark");
        });
        builder.Navigation(t => t.State).IsRequired();
    }
}

internal sealed class TaskDependencyConfiguration : IEntityTypeConfiguration<TaskDependency>
{
    public void Configure(EntityTypeBuilder<TaskDependency> builder)
    {
        builder.ToTable("task_dependencies", t =>
        {
            t.HasCheckConstraint("ck_task_dependencies_self_only_future", "depender_id <> dependee_id OR future_depends");
            t.HasCheckConstraint("ck_task_dependencies_condition", "condition IN ('success', 'completion')");
        });
        builder.HasIndex(d => new { d.DependerId, d.DependeeId }).IsUnique();
        builder.HasIndex(d => d.DependeeId);
        builder.Property(d => d.Condition)
            .HasMaxLength(16)
            .HasConversion(c => DependencyConditions.Name(c), s => DependencyConditions.Parse(s))
            .HasDefaultValue(DependencyCondition.Success)
            .HasSentinel((DependencyCondition)(-1));
        builder.Property(d => d.ChangeMark).HasDefaultValueSql($"nextval('{DjagDbContext.Schema}.{DjagDbContext.EventMarks}')");
        // Deleting a depender removes its edges; a dependee with dependers cannot vanish under them.
        builder.HasOne(d => d.Depender).WithMany(t => t.DependsOn).HasForeignKey(d => d.DependerId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne(d => d.Dependee).WithMany(t => t.DependedBy).HasForeignKey(d => d.DependeeId).OnDelete(DeleteBehavior.Restrict);
    }
}
