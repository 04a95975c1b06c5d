using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using BatchOps.Engine.Diagnostics;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Operations.Spec;
using BatchOps.Testing;

namespace BatchOps.Operations.Tests;

/// <summary>
/// An item attempt's span reaches what the item runs against: an HTTP target gets it as a W3C traceparent
/// header (what a traced server continues) naming the HTTP client's request span under the attempt's, a
/// child process as TRACEPARENT (the OpenTelemetry environment carrier) naming the attempt's own span.
/// </summary>
public sealed class TracePropagationTests : IAsyncLifetime
{
    private readonly string _name = $"traced-{Guid.NewGuid():N}";
    private readonly ConcurrentQueue<Activity> _attempts = new();
    private readonly ConcurrentDictionary<ActivitySpanId, Activity> _requests = new();
    private RecordingServer _server = null!;
    private ActivityListener _listener = null!;

    public async Task InitializeAsync()
    {
        _server = await RecordingServer.StartAsync();
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is BatchTelemetry.Name or "System.Net.Http",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.Source.Name == "System.Net.Http")
                {
                    _requests[activity.SpanId] = activity;
                }

                if (activity.OperationName == BatchTelemetry.ItemSpan && Equals(activity.GetTagItem(BatchTelemetry.JobNameTag), _name))
                {
                    _attempts.Enqueue(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public async Task DisposeAsync()
    {
        _listener.Dispose();
        await _server.DisposeAsync();
    }

    private async Task<List<ItemResult<JsonElement, string?>>> RunAsync(OperationSpec spec, int count)
    {
        var operation = OperationFactory.Compile(spec, Environment.CurrentDirectory, "operation");
        var results = new ConcurrentQueue<ItemResult<JsonElement, string?>>();
        var summary = await BatchExecutor.RunAsync(
            Enumerable.Range(0, count).Select(n => JsonSerializer.SerializeToElement(new { n })),
            operation.ToBatchOperation("job1"),
            new BatchOptions { ChunkSize = 2, ThrottleLimit = 2, Tags = new RunTags(_name, spec.Kind ?? "none") },
            new Collector(results));
        Assert.Equal(count, summary.Succeeded);
        return [.. results.OrderBy(r => r.Index)];
    }

    [Fact]
    public async Task AnHttpTarget_GetsEachAttemptsSpan_AsAW3CTraceparentHeader()
    {
        await RunAsync(new OperationSpec { Kind = "http", Method = "GET", Url = $"{_server.BaseUrl}/items/{{n}}", IdempotencyHeader = string.Empty }, 5);

        var arrived = _server.Requests.ToList();
        Assert.Equal(5, arrived.Count);
        var spans = _attempts.ToDictionary(a => (long)a.GetTagItem("batchops.item.index")!);
        Assert.Equal(5, spans.Count);
        foreach (var request in arrived)
        {
            var index = long.Parse(request.PathSegments[1], System.Globalization.CultureInfo.InvariantCulture);
            var traceparent = Assert.Single(request.Headers["traceparent"]);
            Assert.True(ActivityContext.TryParse(traceparent, null, out var context), traceparent);
            // The attempt's trace; the span is the HTTP client's request span, a child of the attempt's.
            Assert.Equal(spans[index].TraceId, context.TraceId);
            Assert.True(_requests.TryGetValue(context.SpanId, out var sent), $"{traceparent} names no HTTP client span");
            Assert.Equal(spans[index].SpanId, sent.ParentSpanId);
        }
    }

    [Fact]
    public async Task AChildProcess_GetsEachAttemptsSpan_AsTRACEPARENT()
    {
        var results = await RunAsync(new OperationSpec { Kind = "exec", Command = "/bin/sh", Args = ["-c", "printf %s \"$TRACEPARENT\""] }, 4);

        var spans = _attempts.ToDictionary(a => (long)a.GetTagItem("batchops.item.index")!);
        Assert.All(results, r => Assert.Equal(spans[r.Index].Id, r.Output));
        Assert.All(results, r => Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$", r.Output));
    }

    private sealed class Collector(ConcurrentQueue<ItemResult<JsonElement, string?>> results) : BatchObserver<JsonElement, string?>
    {
        public override void OnItemCompleted(ItemResult<JsonElement, string?> result) => results.Enqueue(result);
    }
}
