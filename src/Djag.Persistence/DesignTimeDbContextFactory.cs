using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Djag.Persistence;

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without a running database.</summary>
internal sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<DjagDbContext>
{
    public DjagDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<DjagDbContext>();
        options.UseDjagPostgres(Environment.GetEnvironmentVariable("DJAG_DB") ?? "Host=127.0.0.1;Database=djag");
        return new DjagDbContext(options.Options);
    }
}
