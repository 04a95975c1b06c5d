using BatchOps.Engine.Diagnostics;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace BatchOps.Benchmarks;

/// <summary>
/// What a monitoring stack costs: the overhead and durable scenarios' runs with the OpenTelemetry SDK
/// collecting BatchOps' metrics (what an OTLP or Prometheus exporter sits on), against the same runs with
/// nothing listening, alternated in this process. Tracing every item attempt is reported beside it.
/// </summary>
public sealed partial class Scenarios
{
    /// <summary>No-op engine items/s with the SDK collecting the metrics, over the same without.</summary>
    public async Task<ScenarioResult> MetricsOverheadAsync()
    {
        var count = Scale(1_000_000, 100_000);
        var operation = BatchOperation<int, int>.PerItem((item, _) => ValueTask.FromResult(item.Value));
        var options = new BatchOptions { ThrottleLimit = Environment.ProcessorCount, ChunkSize = 1000, Tags = new RunTags("bench", "noop") };
        Task Run() => BatchExecutor.RunAsync(Enumerable.Range(0, count), operation, options);

        await Run();
        var (plain, measured, traced) = await AlternateAsync(Run);
        return Result("metrics", "items/s, metrics collected", count / measured.TotalSeconds, "items/s, nothing listening", count / plain.TotalSeconds, ">= 0.97", 0.97,
            new() { ["items"] = count, ["tracedOverPlain"] = plain / traced });
    }

    /// <summary>Engine+SQLite items/s with the SDK collecting the metrics, over the same without.</summary>
    public async Task<ScenarioResult> MetricsDurableAsync()
    {
        var count = Scale(200_000, 20_000);
        var round = 0;
        async Task Run()
        {
            using var store = SqliteJobStore.Open(Folder($"metrics-durable-{round++}"));
            var runner = new JobRunner(store);
            var job = await runner.CreateAsync(
                new JobDefinition { Name = "bench", OperationKind = "noop", Operation = "{}", Settings = new JobSettings { ChunkSize = 100, ThrottleLimit = Environment.ProcessorCount } },
                Enumerable.Range(0, count), IntCodec.Instance, "text");
            var result = await runner.RunAsync(job.Id, new JobRunRequest<int, string?>
            {
                Operation = BatchOperation<int, string?>.PerItem((item, _) => ValueTask.FromResult<string?>(null)),
                InputCodec = IntCodec.Instance,
                OutputCodec = TextPayloadCodec.Instance,
            });
            if (result.Job.Counts.Succeeded != count)
            {
                throw new InvalidOperationException($"metrics-durable run recorded {result.Job.Counts.Succeeded} of {count} items");
            }
        }

        var (plain, measured, traced) = await AlternateAsync(Run);
        return Result("metrics-db", "items/s, metrics collected", count / measured.TotalSeconds, "items/s, nothing listening", count / plain.TotalSeconds, ">= 0.97", 0.97,
            new() { ["items"] = count, ["tracedOverPlain"] = plain / traced });
    }

    /// <summary>
    /// Pairs of runs, alternated and each pair in turn order (nothing listening first, then the SDK's meter
    /// provider on; then the other way round), so a machine that slows down or speeds up between rounds
    /// touches both sides of a pair: the ratio is the median of the pairs' ratios. The traced runs (the SDK's
    /// tracer provider recording every span) are the best of their rounds against the best plain run.
    /// </summary>
    private async Task<(TimeSpan Plain, TimeSpan Measured, TimeSpan Traced)> AlternateAsync(Func<Task> run)
    {
        var ratios = new List<double>();
        var plainBest = TimeSpan.MaxValue;
        var tracedBest = TimeSpan.MaxValue;
        var exported = new List<Metric>();
        async Task<TimeSpan> MeasuredAsync()
        {
            using var meters = Sdk.CreateMeterProviderBuilder().AddMeter(BatchTelemetry.Name).AddInMemoryExporter(exported).Build();
            return await Measure.TimeAsync(run);
        }

        for (var round = 0; round < Scale(9, 3); round++)
        {
            TimeSpan plain, measured;
            if (round % 2 == 0)
            {
                plain = await Measure.TimeAsync(run);
                measured = await MeasuredAsync();
            }
            else
            {
                measured = await MeasuredAsync();
                plain = await Measure.TimeAsync(run);
            }

            ratios.Add(plain / measured);
            plainBest = plain < plainBest ? plain : plainBest;
            if (round < 3)
            {
                using var tracer = Sdk.CreateTracerProviderBuilder().AddSource(BatchTelemetry.Name).SetSampler(new AlwaysOnSampler()).Build();
                var traced = await Measure.TimeAsync(run);
                tracedBest = traced < tracedBest ? traced : tracedBest;
            }
        }

        ratios.Sort();
        var median = ratios[ratios.Count / 2];
        return (plainBest, plainBest / median, tracedBest);
    }
}
