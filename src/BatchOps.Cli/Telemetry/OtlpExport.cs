using BatchOps.Engine.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace BatchOps.Cli.Telemetry;

/// <summary>
/// Sends BatchOps' metrics and spans over OTLP, configured the standard way: on when an
/// OTEL_EXPORTER_OTLP_ENDPOINT (or its _TRACES_/_METRICS_ form) is set, with the exporter's own OTEL_*
/// variables (protocol, headers, timeout), OTEL_SERVICE_NAME (default "batchops"), OTEL_RESOURCE_ATTRIBUTES,
/// OTEL_METRIC_EXPORT_INTERVAL, OTEL_TRACES_EXPORTER / OTEL_METRICS_EXPORTER=none to leave one out, and
/// OTEL_SDK_DISABLED=true to leave both out. What is still buffered is sent when the command ends.
/// </summary>
internal static class OtlpExport
{
    /// <summary>The exporters, or null when none is configured; dispose it to flush and stop them.</summary>
    public static IDisposable? Start(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        if (string.Equals(environment("OTEL_SDK_DISABLED"), "true", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var traces = Wanted(environment, "TRACES");
        var metrics = Wanted(environment, "METRICS");
        if (!traces && !metrics)
        {
            return null;
        }

        var resource = ResourceBuilder.CreateDefault()
            .AddService(environment("OTEL_SERVICE_NAME") is { Length: > 0 } name ? name : "batchops", serviceVersion: typeof(OtlpExport).Assembly.GetName().Version?.ToString(3))
            .AddEnvironmentVariableDetector();
        var tracer = traces
            ? Sdk.CreateTracerProviderBuilder().SetResourceBuilder(resource).AddSource(BatchTelemetry.Name).AddOtlpExporter().Build()
            : null;
        var meter = metrics
            ? Sdk.CreateMeterProviderBuilder().SetResourceBuilder(resource).AddMeter(BatchTelemetry.Name).AddOtlpExporter().Build()
            : null;
        return new Providers(tracer, meter);
    }

    /// <summary>Whether one signal is exported: an endpoint for it (or for all), and its exporter not set to "none".</summary>
    private static bool Wanted(Func<string, string?> environment, string signal) =>
        !string.Equals(environment($"OTEL_{signal}_EXPORTER"), "none", StringComparison.OrdinalIgnoreCase)
        && (!string.IsNullOrWhiteSpace(environment("OTEL_EXPORTER_OTLP_ENDPOINT")) || !string.IsNullOrWhiteSpace(environment($"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT")));

    private sealed class Providers(TracerProvider? tracer, MeterProvider? meter) : IDisposable
    {
        public void Dispose()
        {
            // Flushed by their disposal: the last chunk's spans and a final collection of the metrics.
            tracer?.Dispose();
            meter?.Dispose();
        }
    }
}
