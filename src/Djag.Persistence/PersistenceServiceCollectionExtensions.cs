using Djag.Persistence.Schedules;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Djag.Persistence;

public static class PersistenceServiceCollectionExtensions
{
    /// <summary>
    /// The Djag database context, its factory, and the schedule write path. Contexts are pooled: the beat creates one or
    /// two per report and per evaluation, and a new context's services cost more than its statements there (bench/RESULTS.md).
    /// The scoped context (the admin's and the API's) comes from the same pool.
    /// </summary>
    public static IServiceCollection AddDjagPersistence(this IServiceCollection services, string connectionString)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddPooledDbContextFactory<DjagDbContext>(options => options.UseDjagPostgres(connectionString));
        services.TryAddScoped(provider => provider.GetRequiredService<IDbContextFactory<DjagDbContext>>().CreateDbContext());
        services.AddScoped<ScheduleService>();
        return services;
    }

    /// <summary>Brings the database schema up to date; safe to run again.</summary>
    public static Task MigrateAsync(this DjagDbContext db, CancellationToken cancellationToken = default) =>
        db.Database.MigrateAsync(cancellationToken);
}
