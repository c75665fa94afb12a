using Djag.Persistence.Schedules;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Djag.Persistence;

public static class PersistenceServiceCollectionExtensions
{
    /// <summary>The Djag database context, its factory, and the schedule write path.</summary>
    public static IServiceCollection AddDjagPersistence(this IServiceCollection services, string connectionString)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddDbContextFactory<DjagDbContext>(options => options.UseDjagPostgres(connectionString));
        services.AddScoped<ScheduleService>();
        return services;
    }

    /// <summary>Brings the database schema up to date; safe to run again.</summary>
    public static Task MigrateAsync(this DjagDbContext db, CancellationToken cancellationToken = default) =>
        db.Database.MigrateAsync(cancellationToken);
}
