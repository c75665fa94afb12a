using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Djag.Hosting.Telemetry;

/// <summary>
/// The OpenTelemetry pipeline of a Djag service, from <see cref="TelemetryOptions"/>: its meters to a
/// Prometheus scrape endpoint and/or an OTLP collector, its activities to the OTLP collector. Services
/// other than Djag's own (your worker host, the admin) call it with their names as well.
/// </summary>
public static class DjagTelemetry
{
    /// <summary>Where the Prometheus listener answers.</summary>
    public const string PrometheusPath = "/metrics";

    /// <param name="builder">the service's host builder</param>
    /// <param name="serviceName">OpenTelemetry's <c>service.name</c>: <c>djag-beat</c>, <c>djag-worker</c>, <c>djag-admin</c></param>
    /// <param name="sources">the names of the service's meters and activity sources</param>
    public static IHostApplicationBuilder AddDjagTelemetry(this IHostApplicationBuilder builder, string serviceName, params string[] sources)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var section = builder.Configuration.GetSection(TelemetryOptions.Section);
        var services = builder.Services;
        services.AddOptions<TelemetryOptions>().Bind(section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TelemetryOptions>, TelemetryOptionsValidator>());

        // Exporters are registered now, while services can be added; the validator above fails the start
        // on a bad setting before the pipeline is built, so a bad value here only leaves its exporter out.
        var options = section.Get<TelemetryOptions>() ?? new TelemetryOptions();
        var prometheus = options.PrometheusEnabled && new TelemetryOptionsValidator().Validate(null, options).Succeeded;
        var otlp = options.OtlpEnabled && Uri.TryCreate(options.Otlp, UriKind.Absolute, out _);
        if (!prometheus && !otlp)
        {
            return builder;
        }

        var version = Assembly.GetEntryAssembly()?.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName, serviceVersion: version))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(sources);
                if (options.RuntimeMetrics)
                {
                    metrics.AddRuntimeInstrumentation();
                }

                if (prometheus)
                {
                    metrics.AddPrometheusHttpListener(listener => ConfigurePrometheus(listener, options));
                }

                if (otlp)
                {
                    metrics.AddOtlpExporter(exporter => ConfigureOtlp(exporter, options, "v1/metrics"));
                }
            });
        if (otlp)
        {
            telemetry.WithTracing(tracing => tracing.AddSource(sources).AddOtlpExporter(exporter => ConfigureOtlp(exporter, options, "v1/traces")));
        }

        return builder;
    }

    private static void ConfigurePrometheus(PrometheusHttpListenerOptions listener, TelemetryOptions options)
    {
        listener.Port = options.PrometheusPort;
        listener.ScrapeEndpointPath = PrometheusPath;
        if (options.PrometheusHost is "*" or "+")
        {
            // The exporter's Host must be a name; a wildcard prefix (every interface) is set on the listener itself.
            listener.ConfigureHttpListener = static (o, http) =>
            {
                http.Prefixes.Clear();
                http.Prefixes.Add($"http://+:{o.Port}{PrometheusPath}/");
            };
        }
        else
        {
            listener.Host = options.PrometheusHost;
        }
    }

    private static void ConfigureOtlp(OtlpExporterOptions exporter, TelemetryOptions options, string signalPath)
    {
        if (options.OtlpProtocol == TelemetryOptions.HttpProtobuf)
        {
            // An endpoint set in code is used as it is: the per-signal path that OTEL_EXPORTER_OTLP_ENDPOINT would get is ours to add.
            exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
            exporter.Endpoint = new Uri($"{options.Otlp.TrimEnd('/')}/{signalPath}");
        }
        else
        {
            exporter.Protocol = OtlpExportProtocol.Grpc;
            exporter.Endpoint = new Uri(options.Otlp);
        }
    }
}
