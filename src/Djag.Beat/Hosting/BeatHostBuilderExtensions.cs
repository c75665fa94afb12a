using Djag.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Djag.Beat.Hosting;

internal static class BeatHostBuilderExtensions
{
    /// <summary>Configuration keys come from appsettings, <c>DJAG_</c> environment variables (<c>DJAG_DB</c>) and the command line.</summary>
    public static HostApplicationBuilder AddDjagBeat(this HostApplicationBuilder builder)
    {
        builder.Configuration.AddEnvironmentVariables("DJAG_");
        builder.Services.AddSystemd();
        builder.Services.AddOptions<DatabaseOptions>()
            .Bind(builder.Configuration)
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<DatabaseOptions>, DatabaseOptionsValidator>();
        builder.Services.AddDjagPersistence(builder.Configuration[DatabaseOptions.ConnectionStringKey] ?? "");
        builder.Services.AddHostedService<DatabaseCheck>();
        return builder;
    }

    /// <summary><c>djag-beat migrate</c> brings the schema up to date and exits; without a command the beat runs.</summary>
    public static async Task<int> RunDjagBeatAsync(this IHost host, string[] args)
    {
        if (args is ["migrate", ..])
        {
            host.Services.GetRequiredService<IOptions<DatabaseOptions>>().Value.EnsureValid();
            var factory = host.Services.GetRequiredService<IDbContextFactory<DjagDbContext>>();
            await using var db = await factory.CreateDbContextAsync();
            await db.MigrateAsync();
            var applied = await db.Database.GetAppliedMigrationsAsync();
            await Console.Out.WriteLineAsync($"database is at migration {applied.LastOrDefault() ?? "(none)"}");
            return 0;
        }

        await host.RunAsync();
        return 0;
    }
}
