using Microsoft.Extensions.Options;

namespace Djag.Hosting.Telemetry;

/// <summary>
/// Where a Djag service sends its metrics and traces (section <c>Telemetry</c>, environment
/// <c>DJAG_TELEMETRY__*</c>). Everything is off by default: a service without these settings starts no
/// OpenTelemetry pipeline at all, so its instruments cost nothing.
/// </summary>
public sealed class TelemetryOptions
{
    public const string Section = "Telemetry";

    /// <summary>The OTLP protocols the exporter speaks.</summary>
    public const string Grpc = "grpc";

    public const string HttpProtobuf = "http/protobuf";

    /// <summary>
    /// Port of the Prometheus scrape endpoint <c>http://PrometheusHost:PrometheusPort/metrics</c>
    /// (<c>DJAG_TELEMETRY__PROMETHEUS_PORT</c>); 0, the default, serves none.
    /// </summary>
    public int PrometheusPort { get; set; }

    /// <summary>
    /// Address the scrape endpoint listens on (<c>DJAG_TELEMETRY__PROMETHEUS_HOST</c>): loopback by default;
    /// <c>*</c> listens on every interface (in a container, behind its own network).
    /// </summary>
    public string PrometheusHost { get; set; } = "127.0.0.1";

    /// <summary>
    /// OTLP collector that receives metrics and traces (<c>DJAG_TELEMETRY__OTLP</c>), e.g. <c>http://127.0.0.1:4317</c>
    /// for gRPC or <c>http://127.0.0.1:4318</c> for HTTP; empty, the default, sends none.
    /// </summary>
    public string Otlp { get; set; } = "";

    /// <summary><c>grpc</c> (default) or <c>http/protobuf</c> (<c>DJAG_TELEMETRY__OTLP_PROTOCOL</c>).</summary>
    public string OtlpProtocol { get; set; } = Grpc;

    /// <summary>Whether the .NET runtime's own metrics (GC, thread pool, exceptions) are exported too (<c>DJAG_TELEMETRY__RUNTIME_METRICS</c>).</summary>
    public bool RuntimeMetrics { get; set; } = true;

    public bool PrometheusEnabled => PrometheusPort > 0;

    public bool OtlpEnabled => !string.IsNullOrWhiteSpace(Otlp);
}

public sealed class TelemetryOptionsValidator : IValidateOptions<TelemetryOptions>
{
    public ValidateOptionsResult Validate(string? name, TelemetryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.PrometheusPort is < 0 or > 65535)
        {
            failures.Add($"Telemetry:PrometheusPort (DJAG_TELEMETRY__PROMETHEUS_PORT) is {options.PrometheusPort}; give a TCP port 1-65535, or 0 for no scrape endpoint");
        }

        // HttpListener's wildcards, else a name or address a URI can hold.
        if (options.PrometheusHost is not ("*" or "+") && Uri.CheckHostName(options.PrometheusHost?.Trim('[', ']')) == UriHostNameType.Unknown)
        {
            failures.Add($"Telemetry:PrometheusHost (DJAG_TELEMETRY__PROMETHEUS_HOST) '{options.PrometheusHost}' is not a host name or IP address; use 127.0.0.1 (the default) or * for every interface");
        }

        if (options.OtlpEnabled && (!Uri.TryCreate(options.Otlp, UriKind.Absolute, out var otlp) || otlp.Scheme is not ("http" or "https")))
        {
            failures.Add($"Telemetry:Otlp (DJAG_TELEMETRY__OTLP) '{options.Otlp}' is not an http(s) URL of an OTLP collector such as http://127.0.0.1:4317");
        }

        if (options.OtlpProtocol is not (TelemetryOptions.Grpc or TelemetryOptions.HttpProtobuf))
        {
            failures.Add($"Telemetry:OtlpProtocol (DJAG_TELEMETRY__OTLP_PROTOCOL) '{options.OtlpProtocol}' is not {TelemetryOptions.Grpc} or {TelemetryOptions.HttpProtobuf}");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
