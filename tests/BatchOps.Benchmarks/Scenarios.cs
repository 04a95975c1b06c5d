using System.Diagnostics;
using System.Text.Json;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using Microsoft.Data.Sqlite;

namespace BatchOps.Benchmarks;

/// <summary>
/// The benchmark scenarios. Each measures the engine next to a baseline run in this same process, right
/// beside it, and reports the ratio: shared, noisy machines make absolute numbers meaningless.
/// </summary>
public sealed partial class Scenarios(bool quick, string workFolder)
{
    private int Scale(int full, int quickValue) => quick ? quickValue : full;

    /// <summary>Engine items/s for no-op items versus Parallel.ForEachAsync over the same source.</summary>
    public async Task<ScenarioResult> OverheadAsync()
    {
        var count = Scale(1_000_000, 100_000);
        var throttle = Environment.ProcessorCount;
        var operation = BatchOperation<int, int>.PerItem((item, _) => ValueTask.FromResult(item.Value));
        var options = new BatchOptions { ThrottleLimit = throttle, ChunkSize = 1000 };

        // Warm both paths once, then alternate and keep the best of three for each.
        await BatchExecutor.RunAsync(Enumerable.Range(0, 10_000), operation, options);
        await Parallel.ForEachAsync(Enumerable.Range(0, 10_000), new ParallelOptions { MaxDegreeOfParallelism = throttle }, (_, _) => ValueTask.CompletedTask);
        var engine = TimeSpan.MaxValue;
        var baseline = TimeSpan.MaxValue;
        for (var round = 0; round < 3; round++)
        {
            var e = await Measure.TimeAsync(() => BatchExecutor.RunAsync(Enumerable.Range(0, count), operation, options));
            var b = await Measure.TimeAsync(() => Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = throttle }, (_, _) => ValueTask.CompletedTask));
            engine = e < engine ? e : engine;
            baseline = b < baseline ? b : baseline;
        }

        var engineRate = count / engine.TotalSeconds;
        var baselineRate = count / baseline.TotalSeconds;
        LastOverheadRate = engineRate;
        return Result("overhead", "engine items/s", engineRate, "Parallel.ForEachAsync items/s", baselineRate, ">= 0.5", 0.5,
            new() { ["items"] = count, ["throttle"] = throttle });
    }

    /// <summary>The overhead scenario's engine rate, for the durable scenario's second ratio.</summary>
    public double? LastOverheadRate { get; private set; }

    /// <summary>Engine items/s with the SQLite store versus the same rows written by hand-batched transactions.</summary>
    public async Task<ScenarioResult> DurableAsync()
    {
        var count = Scale(200_000, 20_000);
        const int chunk = 100;
        var engineFolder = Folder("durable-engine");
        var createClock = new Stopwatch();
        var engine = await Measure.TimeAsync(async () =>
        {
            using var store = SqliteJobStore.Open(engineFolder);
            var runner = new JobRunner(store);
            createClock.Start();
            var job = await runner.CreateAsync(
                new JobDefinition { Name = "bench", OperationKind = "noop", Operation = "{}", Settings = new JobSettings { ChunkSize = chunk, ThrottleLimit = Environment.ProcessorCount } },
                Enumerable.Range(0, count), IntCodec.Instance, "text");
            createClock.Stop();
            var result = await runner.RunAsync(job.Id, new JobRunRequest<int, string?>
            {
                Operation = BatchOperation<int, string?>.PerItem((item, _) => ValueTask.FromResult<string?>(null)),
                InputCodec = IntCodec.Instance,
                OutputCodec = TextPayloadCodec.Instance,
            });
            if (result.Job.Counts.Succeeded != count)
            {
                throw new InvalidOperationException($"durable run recorded {result.Job.Counts.Succeeded} of {count} items");
            }
        });

        var memoryRate = await InMemoryRateAsync(count, chunk);
        var (floorInsert, floorUpdate) = await Task.Run(() => HandBatched(Folder("durable-floor"), count, chunk));
        var floor = floorInsert + floorUpdate;
        var engineRate = count / engine.TotalSeconds;
        var floorRate = count / floor.TotalSeconds;
        var figures = new Dictionary<string, double> { ["items"] = count, ["chunkSize"] = chunk, ["createMs"] = createClock.Elapsed.TotalMilliseconds, ["runMs"] = (engine - createClock.Elapsed).TotalMilliseconds, ["floorInsertMs"] = floorInsert.TotalMilliseconds, ["floorUpdateMs"] = floorUpdate.TotalMilliseconds, ["inMemoryStoreItemsPerSecond"] = memoryRate, ["sqliteOverInMemory"] = engineRate / memoryRate };
        if (LastOverheadRate is { } overhead)
        {
            figures["sqliteOverNoStoreEngine"] = engineRate / overhead;
        }

        return Result("durable", "engine+SQLite items/s", engineRate, "hand-batched SQLite items/s", floorRate, ">= 0.5", 0.5, figures);
    }

    /// <summary>Achieved items/s for 20 ms awaits at ThrottleLimit 64 versus the ideal 64 / 0.020 s.</summary>
    public async Task<ScenarioResult> IoAsync()
    {
        var count = Scale(5_000, 1_000);
        const int throttle = 64;
        var delay = TimeSpan.FromMilliseconds(20);
        var elapsed = await Measure.TimeAsync(() => BatchExecutor.RunAsync(
            Enumerable.Range(0, count),
            BatchOperation<int, int>.PerItem(async (item, ct) =>
            {
                await Task.Delay(delay, ct);
                return item.Value;
            }),
            new BatchOptions { ThrottleLimit = throttle, ChunkSize = 100 }));

        // A bare Task.Delay(20 ms) takes longer than 20 ms on most kernels; report it too.
        var timerElapsed = await Measure.TimeAsync(() => Task.WhenAll(Enumerable.Range(0, throttle).Select(_ => Task.Delay(delay))));
        var achieved = count / elapsed.TotalSeconds;
        return Result("io", "achieved items/s", achieved, "ideal 64 / 0.020 s", throttle / delay.TotalSeconds, ">= 0.9", 0.9,
            new() { ["items"] = count, ["throttle"] = throttle, ["oneTimerRoundMs"] = timerElapsed.TotalMilliseconds, ["timerLimitedRatio"] = achieved / (throttle / timerElapsed.TotalSeconds) });
    }

    /// <summary>Bulk calls made with 10 bad items versus the bound, and the time against an all-good run.</summary>
    public async Task<ScenarioResult> BisectionAsync()
    {
        var count = Scale(100_000, 20_000);
        const int chunk = 1000;
        const int badCount = 10;
        var bad = Enumerable.Range(0, badCount).Select(i => (long)((i * 2 + 1) * count / (badCount * 2))).ToHashSet();
        long calls = 0;
        var options = new BatchOptions { ChunkSize = chunk, ThrottleLimit = Environment.ProcessorCount };
        var withBad = BatchOperation<int, int>.PerChunk((items, ct) =>
        {
            Interlocked.Increment(ref calls);
            foreach (var item in items)
            {
                if (bad.Contains(item.Index))
                {
                    throw new InvalidOperationException("bad row");
                }
            }

            return ValueTask.FromResult<IReadOnlyList<int>?>(null);
        });
        var good = BatchOperation<int, int>.PerChunk((items, ct) =>
        {
            foreach (var item in items)
            {
                _ = bad.Contains(item.Index);
            }

            return ValueTask.FromResult<IReadOnlyList<int>?>(null);
        });
        var goodTime = await Measure.TimeAsync(() => BatchExecutor.RunAsync(Enumerable.Range(0, count), good, options));
        JobSummary? summary = null;
        var badTime = await Measure.TimeAsync(async () => summary = await BatchExecutor.RunAsync(Enumerable.Range(0, count), withBad, options));
        if (summary!.Failed != badCount)
        {
            throw new InvalidOperationException($"bisection failed {summary.Failed} items, expected {badCount}");
        }

        var chunks = (count + chunk - 1) / chunk;
        var bound = chunks + (2 * badCount * Math.Log2(chunk));
        return Result("bisection", "bulk calls", calls, "bound chunks + 2k·log2(C)", bound, "<= 1 (calls / bound)", 1, new()
        {
            ["items"] = count,
            ["chunks"] = chunks,
            ["badItems"] = badCount,
            ["timeWithBadMs"] = badTime.TotalMilliseconds,
            ["timeAllGoodMs"] = goodTime.TotalMilliseconds,
            ["timeRatio"] = badTime / goodTime,
        }, lowerIsBetter: true);
    }

    /// <summary>Peak heap and working set streaming 1,000,000 items versus 100,000: flat means within 2×.</summary>
    public async Task<ScenarioResult> MemoryAsync()
    {
        var large = Scale(1_000_000, 200_000);
        var small = large / 10;
        var operation = BatchOperation<int, int>.PerItem((item, _) => ValueTask.FromResult(item.Value));
        var options = new BatchOptions { ThrottleLimit = Environment.ProcessorCount, ChunkSize = 1000 };
        var sink = new CountingObserver();
        var smallRun = await Measure.WithMemoryAsync(() => BatchExecutor.RunAsync(Enumerable.Range(0, small), operation, options, sink));
        var largeRun = await Measure.WithMemoryAsync(() => BatchExecutor.RunAsync(Enumerable.Range(0, large), operation, options, sink));
        // Goal on the peak managed heap (garbage included, sampled every 10 ms) and the working set; the
        // live heap after full collections is reported too, but at well under a megabyte it is mostly noise.
        var ratio = (double)largeRun.PeakHeap / smallRun.PeakHeap;
        var workingSetRatio = (double)largeRun.PeakWorkingSet / smallRun.PeakWorkingSet;
        return Result("memory", "peak heap MB (large)", largeRun.PeakHeap / 1e6, "peak heap MB (1/10 items)", smallRun.PeakHeap / 1e6, "<= 2 (heap and working set)", 2, new()
        {
            ["itemsLarge"] = large,
            ["itemsSmall"] = small,
            ["peakLiveHeapMbLarge"] = largeRun.PeakLiveHeap / 1e6,
            ["peakLiveHeapMbSmall"] = smallRun.PeakLiveHeap / 1e6,
            ["peakWorkingSetMbLarge"] = largeRun.PeakWorkingSet / 1e6,
            ["peakWorkingSetMbSmall"] = smallRun.PeakWorkingSet / 1e6,
            ["workingSetRatio"] = workingSetRatio,
            ["resultsSeen"] = sink.Count,
        }, lowerIsBetter: true, ratio: ratio, goalMet: ratio <= 2 && workingSetRatio <= 2);
    }

    /// <summary>Achieved rate versus the requested 100 per second.</summary>
    public async Task<ScenarioResult> RateLimitAsync()
    {
        var rate = double.TryParse(Environment.GetEnvironmentVariable("BATCHOPS_BENCH_RATE"), System.Globalization.CultureInfo.InvariantCulture, out var custom) ? custom : 100;
        var seconds = quick ? 2 : 5;
        var count = (int)(rate * seconds) + 1;
        var starts = new List<double>(count);
        var clock = Stopwatch.StartNew();
        await BatchExecutor.RunAsync(Enumerable.Range(0, count), BatchOperation<int, int>.PerItem((item, _) =>
        {
            lock (starts)
            {
                starts.Add(clock.Elapsed.TotalSeconds);
            }

            return ValueTask.FromResult(item.Value);
        }), new BatchOptions { RateLimit = rate, ThrottleLimit = 8, ChunkSize = 50 });
        starts.Sort();
        var achieved = (starts.Count - 1) / (starts[^1] - starts[0]);
        var ratio = achieved / rate;
        return Result("ratelimit", "achieved ops/s", achieved, "requested ops/s", rate, "within 2 %", 1, new() { ["items"] = count, ["seconds"] = starts[^1] - starts[0] },
            goalMet: Math.Abs(ratio - 1) <= 0.02);
    }

    private async Task<double> InMemoryRateAsync(int count, int chunk)
    {
        var elapsed = await Measure.TimeAsync(async () =>
        {
            using var store = new InMemoryJobStore();
            var runner = new JobRunner(store);
            var job = await runner.CreateAsync(
                new JobDefinition { Name = "bench", OperationKind = "noop", Operation = "{}", Settings = new JobSettings { ChunkSize = chunk, ThrottleLimit = Environment.ProcessorCount } },
                Enumerable.Range(0, count), IntCodec.Instance, "text");
            await runner.RunAsync(job.Id, new JobRunRequest<int, string?>
            {
                Operation = BatchOperation<int, string?>.PerItem((item, _) => ValueTask.FromResult<string?>(null)),
                InputCodec = IntCodec.Instance,
                OutputCodec = TextPayloadCodec.Instance,
            });
        });
        return count / elapsed.TotalSeconds;
    }

    /// <summary>
    /// The floor a store can reach: the same rows (same table, same 12-character job id, same columns) inserted
    /// and then updated in hand-batched transactions of the same sizes, with nothing else around them.
    /// </summary>
    private static (TimeSpan Insert, TimeSpan Update) HandBatched(string folder, int count, int chunk)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(folder, "floor.db")}");
        connection.Open();
        using (var setup = connection.CreateCommand())
        {
            setup.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; " +
                "CREATE TABLE items (job_id TEXT NOT NULL, idx INTEGER NOT NULL, key TEXT, input TEXT NOT NULL, status INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, " +
                "output TEXT, error_type TEXT, error_message TEXT, error_detail TEXT, error_retryable INTEGER, started_at INTEGER, ended_at INTEGER, duration_ms REAL, " +
                "PRIMARY KEY (job_id, idx)) WITHOUT ROWID; CREATE INDEX items_by_status ON items (job_id, status);";
            setup.ExecuteNonQuery();
        }

        // The same statements and bound values a store writes for these rows, hand-batched.
        var clock = Stopwatch.StartNew();
        var times = new TimeSpan[2];
        var statements = new[]
        {
            ("INSERT INTO items (job_id, idx, key, input, status) VALUES ($job, $i, $key, $input, 0)", 1000),
            ("UPDATE items SET status = 2, attempts = 1, output = $key, error_type = $key, error_message = $key, error_detail = $key, error_retryable = $key, " +
                "started_at = $i, ended_at = $i, duration_ms = 0.01 WHERE job_id = $job AND idx = $i", chunk),
        };
        for (var s = 0; s < statements.Length; s++)
        {
            var (sql, batch) = statements[s];
            for (var start = 0; start < count; start += batch)
            {
                using var transaction = connection.BeginTransaction();
                using var command = connection.CreateCommand();
                command.Transaction = transaction;
                command.CommandText = sql;
                command.Parameters.AddWithValue("$job", "0123456789ab");
                command.Parameters.AddWithValue("$key", DBNull.Value);
                var index = command.Parameters.Add("$i", SqliteType.Integer);
                var input = s == 0 ? command.Parameters.Add("$input", SqliteType.Text) : null;
                command.Prepare();
                for (var i = start; i < Math.Min(count, start + batch); i++)
                {
                    index.Value = i;
                    if (input is not null)
                    {
                        input.Value = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    }

                    command.ExecuteNonQuery();
                }

                transaction.Commit();
            }

            times[s] = clock.Elapsed;
            clock.Restart();
        }

        return (times[0], times[1]);
    }

    private string Folder(string name)
    {
        var path = Path.Combine(workFolder, name);
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }

        return Directory.CreateDirectory(path).FullName;
    }

    private static ScenarioResult Result(
        string scenario, string measure, double value, string baselineMeasure, double baseline, string goal, double threshold,
        Dictionary<string, double> figures, bool lowerIsBetter = false, double? ratio = null, bool? goalMet = null)
    {
        var r = ratio ?? value / baseline;
        return new ScenarioResult(scenario, measure, value, baselineMeasure, baseline, r, goal, goalMet ?? (lowerIsBetter ? r <= threshold : r >= threshold), figures);
    }

    private sealed class CountingObserver : BatchObserver<int, int>
    {
        private long _count;

        public long Count => Interlocked.Read(ref _count);

        public override void OnItemCompleted(ItemResult<int, int> result) => Interlocked.Increment(ref _count);
    }

    private sealed class IntCodec : IPayloadCodec<int>
    {
        public static IntCodec Instance { get; } = new();

        public string Format => "text";

        public string Serialize(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

        public int Deserialize(string payload) => int.Parse(payload, System.Globalization.CultureInfo.InvariantCulture);
    }
}
