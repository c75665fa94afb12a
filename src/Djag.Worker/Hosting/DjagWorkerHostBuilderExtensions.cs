using Djag.Hosting.Configuration;
using Djag.Hosting.Nats;
using Djag.Hosting.Telemetry;
using Djag.Worker.Hosting;
using Djag.Worker.Nats;
using Djag.Worker.Reports;
using Djag.Worker.Runs;
using Djag.Worker.Tasks;
using Djag.Worker.Tasks.BuiltIn;
using Djag.Worker.Telemetry;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Djag.Worker;

public static class DjagWorkerHostBuilderExtensions
{
    /// <summary>
    /// Adds the Djag worker with its built-in tasks (<c>djag.shell</c>, <c>djag.http</c>, <c>djag.sleep</c>,
    /// <c>djag.echo</c>); register your own on the returned builder. Settings (see <see cref="DjagWorkerOptions"/>)
    /// come from configuration, <c>DJAG_*</c> environment variables and the command line, then <paramref name="configure"/>.
    /// </summary>
    public static DjagWorkerBuilder AddDjagWorker(this IHostApplicationBuilder builder, Action<DjagWorkerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var worker = new DjagWorkerBuilder(services);
        if (!services.Any(service => service.ServiceType == typeof(WorkerService)))
        {
            DjagEnvironmentVariables.AddTo(builder.Configuration);
            services.AddSystemd();
            services.AddOptions<DjagWorkerOptions>()
                .Bind(builder.Configuration)
                .ValidateOnStart();
            services.AddSingleton<IValidateOptions<DjagWorkerOptions>, DjagWorkerOptionsValidator>();
            DjagNatsOptions.AddTo(builder);
            builder.AddDjagTelemetry("djag-worker", DjagWorkerTelemetry.Name);
            services.AddMetrics();
            services.AddSingleton<WorkerMetrics>();
            services.TryAddSingleton(TimeProvider.System);
            services.AddSingleton<WorkerNats>();
            services.AddSingleton<TaskRegistry>();
            services.AddSingleton<RunningRuns>();
            services.AddSingleton<ReportStore>();
            services.AddSingleton<Heartbeat>();
            services.AddSingleton<RunExecutor>();
            services.AddSingleton<RunConsumer>();
            services.AddSingleton<WorkerService>();
            services.AddHostedService(provider => provider.GetRequiredService<WorkerService>());

            services.AddSingleton<HttpTask>();
            worker.AddTask<ShellTask>(ShellTask.Name)
                .AddTask<HttpTask>(HttpTask.Name)
                .AddTask<SleepTask>(SleepTask.Name)
                .AddTask<EchoTask>(EchoTask.Name);
        }

        if (configure is not null)
        {
            services.Configure(configure);
        }

        return worker;
    }

    /// <summary>
    /// Runs the worker until it is stopped, and returns the exit code: 0 after a clean stop, 1 when the start
    /// failed (bad settings, NATS unreachable): the host has logged why, and a crash dump would add nothing.
    /// </summary>
    public static async Task<int> RunDjagWorkerAsync(this IHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        try
        {
            await host.RunAsync();
            return 0;
        }
        catch (Exception ex)
        {
            await Console.Error.WriteLineAsync($"djag-worker: {ex.Message}");
            return 1;
        }
    }
}
