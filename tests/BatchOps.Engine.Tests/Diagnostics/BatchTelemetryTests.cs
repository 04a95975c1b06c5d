using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json;
using BatchOps.Engine.Diagnostics;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using BatchOps.Engine.Tests.Support;

namespace BatchOps.Engine.Tests.Diagnostics;

/// <summary>
/// What a monitoring stack sees of a job run: the BatchOps meter's measurements and the BatchOps activity
/// source's spans, taken with the framework's own listeners (what every exporter builds on). Other tests run
/// jobs at the same time in this process: everything is picked by this test's own job name.
/// </summary>
public sealed class BatchTelemetryTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly string _name = $"telemetry-{Guid.NewGuid():N}";
    private readonly ConcurrentQueue<(string Instrument, double Value, Dictionary<string, object?> Tags)> _measurements = new();
    private readonly ConcurrentQueue<Activity> _spans = new();
    private readonly MeterListener _meters = new();
    private readonly ActivityListener _activities;

    public BatchTelemetryTests()
    {
        _meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == BatchTelemetry.Name)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _meters.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Keep(instrument, value, tags));
        _meters.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Keep(instrument, value, tags));
        _meters.Start();
        _activities = new ActivityListener
        {
            ShouldListenTo = source => source.Name == BatchTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (Equals(activity.GetTagItem(BatchTelemetry.JobNameTag), _name))
                {
                    _spans.Enqueue(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(_activities);
    }

    public void Dispose()
    {
        _activities.Dispose();
        _meters.Dispose();
        _folder.Dispose();
    }

    private void Keep(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var all = new Dictionary<string, object?>();
        foreach (var tag in tags)
        {
            all[tag.Key] = tag.Value;
        }

        if (Equals(all.GetValueOrDefault(BatchTelemetry.JobNameTag), _name))
        {
            _measurements.Enqueue((instrument.Name, value, all));
        }
    }

    private double Sum(string instrument, string? status = null) =>
        _measurements.Where(m => m.Instrument == instrument && (status is null || Equals(m.Tags.GetValueOrDefault(BatchTelemetry.StatusTag), status))).Sum(m => m.Value);

    private async Task<JobRunResult> RunAsync(int count, JobSettings settings, Func<int, int, string?> operation)
    {
        using var store = SqliteJobStore.Open(_folder.Path);
        var runner = new JobRunner(store, StoreLocation.LogFolder(_folder.Path));
        var job = await runner.CreateAsync(
            new JobDefinition { Name = _name, OperationKind = "test", Operation = "{}", Settings = settings },
            Enumerable.Range(0, count).Select(i => JsonSerializer.SerializeToElement(i)), JsonPayloadCodec.Instance, "text");
        var attempts = new ConcurrentDictionary<int, int>();
        return await runner.RunAsync(job.Id, new JobRunRequest<JsonElement, string?>
        {
            Operation = BatchOperation<JsonElement, string?>.PerItem((item, _) =>
            {
                var n = item.Value.GetInt32();
                return ValueTask.FromResult(operation(n, attempts.AddOrUpdate(n, 1, (_, a) => a + 1)));
            }),
            InputCodec = JsonPayloadCodec.Instance,
            OutputCodec = TextPayloadCodec.Instance,
        });
    }

    [Fact]
    public async Task AJobRun_IsMeasured_ItemsByStatus_Durations_Retries_TheJobsEnd_AndItsCheckpoints_TaggedByJobNameAndKindOnly()
    {
        var result = await RunAsync(25, new JobSettings { ChunkSize = 10, ThrottleLimit = 3, RetryCount = 1, RetryDelayMs = 1 }, (n, attempt) =>
            n % 10 == 3 ? throw new InvalidOperationException($"item {n} is bad") : n == 4 && attempt == 1 ? throw new TimeoutException("slow once") : $"ok {n}");

        Assert.Equal(JobStatus.CompletedWithErrors, result.Job.Status);
        // Items and retries are observed (what an exporter does when it collects): the runs count them anyway.
        _meters.RecordObservableInstruments();
        Assert.Equal(22, Sum("batchops.items", "Succeeded"));
        Assert.Equal(3, Sum("batchops.items", "Failed"));
        Assert.Equal(4, Sum("batchops.item.retries")); // each bad item once, item 4 once
        Assert.Equal(25, _measurements.Count(m => m.Instrument == "batchops.item.duration")); // chunks of 10: every item's
        Assert.Equal(1, Sum("batchops.jobs", "CompletedWithErrors"));
        Assert.Equal(0, Sum("batchops.jobs.active"));
        Assert.Equal(2, _measurements.Count(m => m.Instrument == "batchops.jobs.active"));
        Assert.Equal(3, _measurements.Count(m => m.Instrument == "batchops.store.checkpoint.duration"));

        // Bounded tags: the job's name, the kind, and a status, never an item.
        Assert.All(_measurements, m => Assert.Subset(new HashSet<string> { BatchTelemetry.JobNameTag, BatchTelemetry.KindTag, BatchTelemetry.StatusTag }, m.Tags.Keys.ToHashSet()));
        Assert.All(_measurements, m => Assert.Equal("test", m.Tags[BatchTelemetry.KindTag]));
    }

    [Fact]
    public async Task ItemsRunningNow_AreObservedWhileTheyRun_AndNoLongerOnceTheRunEnded()
    {
        using var gate = new SemaphoreSlim(0);
        var started = 0;
        var run = Task.Run(() => RunAsync(6, new JobSettings { ChunkSize = 6, ThrottleLimit = 3 }, (_, _) =>
        {
            Interlocked.Increment(ref started);
            gate.Wait(TimeSpan.FromSeconds(60));
            return "ok";
        }));
        for (var clock = Stopwatch.StartNew(); Volatile.Read(ref started) < 3; await Task.Delay(10))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "the items never started");
        }

        _meters.RecordObservableInstruments();
        Assert.Equal(3, _measurements.Last(m => m.Instrument == "batchops.items.running").Value);

        gate.Release(6);
        Assert.Equal(6, (await run).Job.Counts.Succeeded);
        _measurements.Clear();
        _meters.RecordObservableInstruments();
        Assert.DoesNotContain(_measurements, m => m.Instrument == "batchops.items.running");
        Assert.Equal(6, Sum("batchops.items", "Succeeded"));
    }

    [Fact]
    public async Task AJobRun_IsTraced_ASpanPerRun_PerChunk_AndPerItemAttempt_WithStatusErrorTypeAndRetryNumber()
    {
        var result = await RunAsync(25, new JobSettings { ChunkSize = 10, ThrottleLimit = 3, RetryCount = 1, RetryDelayMs = 1 }, (n, attempt) =>
            n == 13 ? throw new InvalidOperationException("item 13 is bad") : Activity.Current?.TraceId.ToHexString());

        Assert.Equal((24L, 1L), (result.Job.Counts.Succeeded, result.Job.Counts.Failed));
        var job = Assert.Single(_spans, s => s.OperationName == BatchTelemetry.JobSpan);
        Assert.Equal(result.Job.Id, job.GetTagItem("batchops.job.id"));
        Assert.Equal("CompletedWithErrors", job.GetTagItem(BatchTelemetry.StatusTag));
        var chunks = _spans.Where(s => s.OperationName == BatchTelemetry.ChunkSpan).ToList();
        Assert.Equal(3, chunks.Count);
        Assert.All(chunks, c => Assert.Equal((job.TraceId, job.SpanId), (c.TraceId, c.ParentSpanId)));
        Assert.Equal([10, 10, 5], chunks.OrderBy(c => (long)c.GetTagItem("batchops.chunk.sequence")!).Select(c => (int)c.GetTagItem("batchops.chunk.items")!));

        var items = _spans.Where(s => s.OperationName == BatchTelemetry.ItemSpan).ToList();
        Assert.Equal(26, items.Count); // 25 first attempts, and item 13's retry
        var chunkIds = chunks.Select(c => c.SpanId).ToHashSet();
        Assert.All(items, i => Assert.Contains(i.ParentSpanId, chunkIds));
        var bad = items.Where(i => (long)i.GetTagItem("batchops.item.index")! == 13).OrderBy(i => (int)i.GetTagItem("batchops.item.attempt")!).ToList();
        Assert.Equal([0, 1], bad.Select(i => (int)i.GetTagItem("batchops.item.retry")!));
        Assert.All(bad, i => Assert.Equal((ActivityStatusCode.Error, "System.InvalidOperationException", "Failed"), (i.Status, i.GetTagItem("error.type"), i.GetTagItem(BatchTelemetry.StatusTag))));
        Assert.Equal("Succeeded", items.First(i => (long)i.GetTagItem("batchops.item.index")! == 7).GetTagItem(BatchTelemetry.StatusTag));

        // The attempt's span is current while the operation runs: what propagates it to an HTTP target or a child process.
        using var store = SqliteJobStore.Open(_folder.Path);
        var seven = Assert.Single(await store.GetItemsAsync(result.Job.Id, new ItemQuery { Indexes = [7] }).ToListAsync());
        Assert.Equal(job.TraceId.ToHexString(), seven.Output);
    }
}
