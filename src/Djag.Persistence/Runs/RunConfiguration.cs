using Djag.Persistence.Schedules;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Djag.Persistence.Runs;

internal sealed class RunConfiguration : IEntityTypeConfiguration<Run>
{
    public void Configure(EntityTypeBuilder<Run> builder)
    {
        builder.ToTable("runs", t =>
        {
            t.HasCheckConstraint("ck_runs_attempt", "attempt >= 1");
            t.HasCheckConstraint("ck_runs_state", $"state IN ({SqlList(RunStates.All)})");
            t.HasCheckConstraint("ck_runs_origin", $"origin IN ({SqlList(RunOrigins.All)})");
            t.HasCheckConstraint("ck_runs_outcome", $"outcome IS NULL OR outcome IN ({SqlList(RunOutcomes.All)})");
            t.HasCheckConstraint("ck_runs_outcome_when_finished", "(state = 'finished') = (outcome IS NOT NULL)");
            t.HasCheckConstraint("ck_runs_dispatched_at", "dispatched_at IS NOT NULL OR state IN ('scheduled', 'skipped', 'coalesced')");
            t.HasCheckConstraint("ck_runs_not_before", "(state = 'scheduled') = (not_before IS NOT NULL)");
        });
        builder.HasIndex(r => new { r.TaskId, r.Cron, r.Attempt }).IsUnique();
        builder.HasIndex(r => r.State).HasFilter("state IN ('scheduled', 'dispatched', 'running')");
        builder.Property(r => r.State).HasMaxLength(16);
        builder.Property(r => r.Outcome).HasMaxLength(16);
        builder.Property(r => r.Origin).HasMaxLength(16).HasDefaultValue(RunOrigins.Cron);
        builder.Property(r => r.Worker).HasMaxLength(200);
        builder.HasOne<PeriodicTask>().WithMany().HasForeignKey(r => r.TaskId).OnDelete(DeleteBehavior.Cascade);
    }

    private static string SqlList(IEnumerable<string> values) => string.Join(", ", values.Select(v => $"'{v}'"));
}
