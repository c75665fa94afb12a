using Djag.Beat.Changes;
using Djag.Beat.Dispatch;
using Djag.Beat.Nats;
using Djag.Beat.Reports;
using Djag.Beat.Telemetry;
using Djag.Beat.Timing;
using Djag.Hosting.Configuration;
using Djag.Hosting.Nats;
using Djag.Hosting.Telemetry;
using Djag.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Djag.Beat.Hosting;

internal static class BeatHostBuilderExtensions
{
    /// <summary>
    /// The beat: settings from appsettings.json, then <c>DJAG_*</c> environment variables (<c>DJAG_DB</c>,
    /// <c>DJAG_NATS_URL</c>, <c>DJAG_BEAT__RUN_LEASE</c>, <c>DJAG_TIMING__CHECKIN_INTERVAL</c>), then the command line.
    /// </summary>
    public static HostApplicationBuilder AddDjagBeat(this HostApplicationBuilder builder)
    {
        DjagEnvironmentVariables.AddTo(builder.Configuration);
        var services = builder.Services;
        services.AddSystemd();
        services.AddOptions<BeatOptions>().Bind(builder.Configuration.GetSection(BeatOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<BeatOptions>, BeatOptionsValidator>();

        // One connection string, so EF Core, Quartz and the trigger reads share one Npgsql pool, with statements prepared.
        var connectionString = DjagDbContextOptions.WithPreparedStatements(ConnectionOptions.Register(services, builder.Configuration).Database);
        services.AddDjagPersistence(connectionString);
        services.AddHostedService<DatabaseCheck>();
        DjagNatsOptions.AddTo(builder);
        services.AddDjagNats("djag-beat");
        builder.AddDjagTelemetry("djag-beat", BeatTelemetry.Name);
        services.AddMetrics();
        services.AddSingleton<BeatMetrics>();

        // Evaluations start before Quartz and stop after it, so no fire waits on an evaluation that was stopped.
        services.AddSingleton<RunPublisher>();
        services.AddSingleton<Dispatcher>();
        services.AddSingleton<Evaluations>();
        services.AddSingleton<IDueTaskHandler>(sp => sp.GetRequiredService<Evaluations>());
        services.AddHostedService(sp => sp.GetRequiredService<Evaluations>());
        services.AddDjagTiming(connectionString, timing => builder.Configuration.GetSection("Timing").Bind(timing));

        services.AddSingleton<ReportApplier>();
        services.AddSingleton<RunSupervisor>();
        services.AddHostedService<ChangeListener>();
        services.AddHostedService<ReportWatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<RunSupervisor>());
        return builder;
    }

    /// <summary>
    /// <c>djag-beat migrate</c> brings Djag's schema and the Quartz job store up to date; <c>djag-beat health</c>
    /// checks the database and NATS; without a command the beat runs.
    /// </summary>
    public static async Task<int> RunDjagBeatAsync(this IHost host, string[] args)
    {
        if (args is ["migrate", ..])
        {
            var connection = host.Services.GetRequiredService<IOptions<ConnectionOptions>>().Value;
            connection.EnsureValid();
            var factory = host.Services.GetRequiredService<IDbContextFactory<DjagDbContext>>();
            await using var db = await factory.CreateDbContextAsync();
            await db.MigrateAsync();
            await TimingServiceCollectionExtensions.ProvisionSchemaAsync(connection.Database, CancellationToken.None);
            var applied = await db.Database.GetAppliedMigrationsAsync();
            await Console.Out.WriteLineAsync($"database is at migration {applied.LastOrDefault() ?? "(none)"}; Quartz job store ready");
            return 0;
        }

        if (args is ["health", ..])
        {
            return await HealthCommand.RunAsync(host.Services, Console.Out, CancellationToken.None);
        }

        await host.RunAsync();
        return 0;
    }
}
