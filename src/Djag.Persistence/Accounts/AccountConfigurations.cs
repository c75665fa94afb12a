using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Djag.Persistence.Accounts;

internal sealed class UserConfiguration : IEntityTypeConfiguration<User>
{
    public void Configure(EntityTypeBuilder<User> builder)
    {
        builder.ToTable("users", t =>
        {
            t.HasCheckConstraint("ck_users_role", "role IN ('admin', 'read_only')");
            t.HasCheckConstraint("ck_users_name", "name ~ '^[A-Za-z0-9._@-]{1,64}$'");
        });
        builder.HasIndex(u => u.Name).IsUnique();
        builder.Property(u => u.Name).HasMaxLength(64);
        builder.Property(u => u.Role).HasMaxLength(16);
    }
}

internal sealed class ApiTokenConfiguration : IEntityTypeConfiguration<ApiToken>
{
    public void Configure(EntityTypeBuilder<ApiToken> builder)
    {
        builder.ToTable("api_tokens", t => t.HasCheckConstraint("ck_api_tokens_role", "role IN ('admin', 'read_only')"));
        builder.HasIndex(t => t.TokenHash).IsUnique();
        builder.HasIndex(t => t.Name).IsUnique();
        builder.Property(t => t.Name).HasMaxLength(64);
        builder.Property(t => t.TokenHash).HasMaxLength(64);
        builder.Property(t => t.Role).HasMaxLength(16);
    }
}
