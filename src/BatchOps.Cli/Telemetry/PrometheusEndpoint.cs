using BatchOps.Engine.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace BatchOps.Cli.Telemetry;

/// <summary>
/// BatchOps' metrics in the Prometheus text format at /metrics: on <c>batchops serve</c> (behind its token
/// and Host checks, like the API) and on <c>batchops worker --metrics-urls</c>. OpenTelemetry's Prometheus
/// exporter maps the meter as Prometheus expects: counters as counters ending in _total, units as suffixes
/// (_seconds), dotted names and tags with underscores (batchops_items_total{batchops_status="Failed"}).
/// </summary>
internal static class PrometheusEndpoint
{
    /// <summary>The scrape path.</summary>
    public const string Path = "/metrics";

    /// <summary>Registers the exporter's meter provider with the app's services.</summary>
    public static void AddTo(WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(Environment.GetEnvironmentVariable("OTEL_SERVICE_NAME") is { Length: > 0 } name ? name : "batchops"))
            .WithMetrics(metrics => metrics.AddMeter(BatchTelemetry.Name).AddPrometheusExporter());
    }

    /// <summary>Maps the scrape path (after whatever middleware guards the app).</summary>
    public static void MapOn(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPrometheusScrapingEndpoint(Path);
    }

    /// <summary>A server of /metrics alone, on <paramref name="urls"/> (a worker's --metrics-urls); started, dispose to stop.</summary>
    public static async Task<WebApplication> StartAsync(string urls, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(urls);
        builder.Logging.ClearProviders();
        AddTo(builder);
        var app = builder.Build();
        MapOn(app);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        return app;
    }
}
