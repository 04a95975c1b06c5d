using BatchOps.Cli.Tests.Support;
using BatchOps.Engine.Tests.Support;

namespace BatchOps.Cli.Tests.Telemetry;

/// <summary>
/// batchops run with OTEL_EXPORTER_OTLP_ENDPOINT set sends its metrics and spans to an OTLP receiver on
/// loopback, and each HTTP request the job sends carries a traceparent of the item's trace.
/// </summary>
public sealed class OtlpExportTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);
    private readonly TempFolder _folder = new();
    private OtlpReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await OtlpReceiver.StartAsync();

    public async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task Run_WithAnOtlpEndpoint_ExportsTheJobsMetricsAndSpans_AndTheTargetGetsTheItemsTrace()
    {
        var spec = SpecFiles.Write(_folder.Path, new
        {
            name = "otlp-export",
            items = Enumerable.Range(0, 6).Select(n => new { n }),
            operation = new { kind = "http", method = "GET", url = $"{_receiver.BaseUrl}/target/{{n}}" },
            settings = new { chunkSize = 2, throttleLimit = 2 },
        });
        using var process = CliHarness.StartWith(Path.Combine(_folder.Path, "store"), new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = _receiver.BaseUrl,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_SERVICE_NAME"] = "batchops-under-test",
            ["BATCHOPS_HOME"] = _folder.Path,
        }, "run", spec);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using (var limit = new CancellationTokenSource(Bound))
        {
            await process.WaitForExitAsync(limit.Token);
        }

        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}\n{await output}\n{await error}");

        // The metrics, flushed as the command ended: items by status, tagged with the job's name.
        var metrics = _receiver.StringsAt("/v1/metrics");
        Assert.Contains("batchops.items", metrics);
        Assert.Contains("batchops.item.duration", metrics);
        Assert.Contains("batchops.jobs", metrics);
        Assert.Contains("batchops.store.checkpoint.duration", metrics);
        Assert.Contains("otlp-export", metrics);
        Assert.Contains("Succeeded", metrics);
        Assert.Contains("batchops-under-test", metrics);

        // The spans: the job run, its chunks, each item attempt.
        var traces = _receiver.StringsAt("/v1/traces");
        Assert.Contains("batchops.job", traces);
        Assert.Contains("batchops.chunk", traces);
        Assert.Contains("batchops.item", traces);
        var traceIds = _receiver.TraceIdsAt("/v1/traces");

        // Each request carried a W3C traceparent of the run's trace.
        Assert.Equal(6, _receiver.TargetHits.Count);
        Assert.All(_receiver.TargetHits.Values, traceparent =>
        {
            Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$", traceparent);
            Assert.Contains(traceparent!.Split('-')[1], traceIds);
        });
        Assert.Single(_receiver.TargetHits.Values.Select(t => t!.Split('-')[1]).Distinct());
    }
}
