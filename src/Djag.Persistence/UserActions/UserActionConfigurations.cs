using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Djag.Persistence.UserActions;

internal sealed class UserActionConfiguration : IEntityTypeConfiguration<UserAction>
{
    public void Configure(EntityTypeBuilder<UserAction> builder)
    {
        builder.ToTable("user_actions", t => t.HasCheckConstraint("ck_user_actions_action", "action ~ '^[A-Z_]{1,64}$'"));
        builder.Property(a => a.Action).HasMaxLength(64);
        builder.Property(a => a.Payload).HasColumnType("jsonb");
        builder.HasIndex(a => a.CreateDt);
    }
}

internal sealed class UserActionAuditConfiguration : IEntityTypeConfiguration<UserActionAudit>
{
    public void Configure(EntityTypeBuilder<UserActionAudit> builder)
    {
        builder.ToTable("user_action_audits");
        builder.Property(a => a.Action).HasMaxLength(64);
        builder.Property(a => a.Payload).HasColumnType("jsonb");
        builder.HasIndex(a => a.DeleteDt);
    }
}
