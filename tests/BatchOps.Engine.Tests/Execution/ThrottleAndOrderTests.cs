using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Tests.Support;

namespace BatchOps.Engine.Tests.Execution;

public class ThrottleAndOrderTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(16)]
    public async Task RunAsync_PerItem_NeverExceedsThrottleAndReachesIt(int throttle)
    {
        var running = 0;
        var maxSeen = 0;
        var reachedThrottle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var (summary, _) = await Run.ItemsAsync(Run.Range(300), async (item, _) =>
        {
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref maxSeen, now);
            if (now == throttle)
            {
                reachedThrottle.TrySetResult();
            }

            // The first items wait until the throttle is full, proving the workers really run at once.
            if (item.Index < throttle)
            {
                await reachedThrottle.Task.WaitAsync(TimeSpan.FromSeconds(10));
            }

            await Task.Yield();
            Interlocked.Decrement(ref running);
            return item.Value;
        }, new BatchOptions { ThrottleLimit = throttle, ChunkSize = 7 });

        Assert.Equal(JobStatus.Completed, summary.Status);
        Assert.Equal(300, summary.Succeeded);
        Assert.Equal(throttle, maxSeen);
    }

    [Fact]
    public async Task RunAsync_PerChunk_RunsAtMostThrottleChunksAtOnce()
    {
        var running = 0;
        var maxSeen = 0;
        var (summary, _) = await Run.ChunksAsync(Run.Range(1_000), async (items, _) =>
        {
            InterlockedMax(ref maxSeen, Interlocked.Increment(ref running));
            await Task.Delay(2);
            Interlocked.Decrement(ref running);
            return null;
        }, new BatchOptions { ThrottleLimit = 3, ChunkSize = 10 });

        Assert.Equal(1_000, summary.Succeeded);
        Assert.InRange(maxSeen, 1, 3);
    }

    [Fact]
    public async Task RunAsync_ThrottleOne_RunsAndReportsInInputOrder()
    {
        var calls = new List<long>();
        var (summary, observer) = await Run.ItemsAsync(Run.Range(500), async (item, _) =>
        {
            calls.Add(item.Index);
            if (item.Index % 3 == 0)
            {
                await Task.Yield();
            }

            return item.Value;
        }, new BatchOptions { ThrottleLimit = 1, ChunkSize = 16 });

        Assert.Equal(Enumerable.Range(0, 500).Select(i => (long)i), calls);
        Assert.Equal(Enumerable.Range(0, 500).Select(i => (long)i), observer.Results.Select(r => r.Index));
        Assert.Equal(500, summary.Succeeded);
    }

    [Fact]
    public async Task RunAsync_PreserveOrderInParallel_ReportsInInputOrderWhileFinishingOutOfOrder()
    {
        var finished = new List<long>();
        var (_, observer) = await Run.ItemsAsync(Run.Range(200), async (item, _) =>
        {
            // Early items take longest, so they finish after later ones.
            await Task.Delay(item.Index % 8 == 0 ? 20 : 1);
            lock (finished)
            {
                finished.Add(item.Index);
            }

            return item.Value * 2;
        }, new BatchOptions { ThrottleLimit = 8, ChunkSize = 10, PreserveOrder = true });

        Assert.NotEqual(finished.OrderBy(i => i), finished);
        Assert.Equal(Enumerable.Range(0, 200).Select(i => (long)i), observer.Results.Select(r => r.Index));
        Assert.All(observer.Results, r => Assert.Equal(r.Input * 2, r.Output));
    }

    [Fact]
    public async Task RunAsync_ItemKeys_AreCarriedToResults()
    {
        var observer = new RecordingObserver<string, int>();
        await BatchExecutor.RunAsync(
            BatchInput.From(new[] { "alpha", "beta" }, keySelector: v => v.ToUpperInvariant()),
            BatchOperation<string, int>.PerItem((item, _) => ValueTask.FromResult(item.Value.Length)),
            observer: observer);

        Assert.Equal(["ALPHA", "BETA"], observer.Results.OrderBy(r => r.Index).Select(r => r.Key));
        Assert.Equal([5, 4], observer.Results.OrderBy(r => r.Index).Select(r => r.Output));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task RunAsync_WithoutOverlappingCheckpoints_NeverHasMoreThanThrottleChunksUnrecorded(int throttle)
    {
        // What undo relies on: at a crash, only the compensations that were running can run again.
        var started = 0;
        var recorded = 0;
        var worst = 0;
        var observer = new CheckpointObserver(async () =>
        {
            await Task.Delay(5);
            Interlocked.Increment(ref recorded);
        });
        var summary = await BatchExecutor.RunAsync(
            Run.Range(40),
            BatchOperation<int, int>.PerItem(async (item, _) =>
            {
                InterlockedMax(ref worst, Interlocked.Increment(ref started) - Volatile.Read(ref recorded));
                await Task.Yield();
                return item.Value;
            }),
            new BatchOptions { ThrottleLimit = throttle, ChunkSize = 1, OverlapCheckpoints = false },
            observer);

        Assert.Equal(40, summary.Succeeded);
        Assert.InRange(worst, 1, throttle);
    }

    [Fact]
    public async Task RunAsync_OverlappingCheckpoints_StartsTheNextChunkWhileOneIsBeingRecorded()
    {
        var nextStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var observer = new CheckpointObserver(() => new ValueTask(nextStarted.Task.WaitAsync(TimeSpan.FromSeconds(10))));
        var summary = await BatchExecutor.RunAsync(
            Run.Range(2),
            BatchOperation<int, int>.PerItem((item, _) =>
            {
                if (item.Index == 1)
                {
                    nextStarted.TrySetResult();
                }

                return ValueTask.FromResult(item.Value);
            }),
            new BatchOptions { ThrottleLimit = 1, ChunkSize = 1 },
            observer);

        Assert.Equal(JobStatus.Completed, summary.Status);
        Assert.True(nextStarted.Task.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task RunAsync_Checkpoints_OnePerChunkAfterItsItemsWereAnnounced()
    {
        var (_, observer) = await Run.ItemsAsync(Run.Range(95), (item, _) => ValueTask.FromResult(item.Value), new BatchOptions { ChunkSize = 10, ThrottleLimit = 4 });

        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), observer.StartedChunks.Select(c => c.Chunk));
        Assert.Equal(10, observer.CompletedChunks.Count);
        foreach (var (chunk, results) in observer.CompletedChunks)
        {
            var announced = observer.StartedChunks.Single(c => c.Chunk == chunk).Indexes;
            Assert.Equal(announced, results.Select(r => r.Index));
            Assert.All(results, r => Assert.Equal(ItemStatus.Succeeded, r.Status));
        }

        Assert.Equal(5, observer.CompletedChunks.Single(c => c.Chunk == 9).Results.Length);
    }

    [Fact]
    public async Task RunAsync_LazyInput_PullsOnlyAboutThrottleTimesChunkAhead()
    {
        const int throttle = 4;
        const int chunkSize = 50;
        long pulled = 0;
        long completed = 0;
        long maxAhead = 0;
        using var stop = new BatchStopSource();

        IEnumerable<int> Source()
        {
            for (var i = 0; i < 1_000_000; i++)
            {
                Interlocked.Increment(ref pulled);
                yield return i;
            }
        }

        var (summary, _) = await Run.ItemsAsync(Source(), (item, _) =>
        {
            InterlockedMax(ref maxAhead, Interlocked.Read(ref pulled) - Interlocked.Read(ref completed));
            if (Interlocked.Increment(ref completed) == 20_000)
            {
                stop.Stop();
            }

            return ValueTask.FromResult(item.Value);
        }, new BatchOptions { ThrottleLimit = throttle, ChunkSize = chunkSize }, stop);

        var bound = (throttle + 2) * chunkSize;
        Assert.InRange(maxAhead, 1, bound);
        // Workers keep finishing items while the stop lands, so compare with what actually ran.
        Assert.InRange(Interlocked.Read(ref pulled), completed, completed + bound);
        Assert.InRange(completed, 20_000, 100_000);
        Assert.Equal(Interlocked.Read(ref pulled), summary.Total);
        Assert.Equal(JobStatus.Cancelled, summary.Status);
    }

    internal static void InterlockedMax(ref int target, int value)
    {
        int current;
        while (value > (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }

    internal static void InterlockedMax(ref long target, long value)
    {
        long current;
        while (value > (current = Interlocked.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }

    /// <summary>An observer whose checkpoints run the given step (a slow or held store transaction).</summary>
    private sealed class CheckpointObserver(Func<ValueTask> checkpoint) : BatchObserver<int, int>
    {
        public override ValueTask OnChunkCompletedAsync(long chunk, IReadOnlyList<ItemResult<int, int>> results) => checkpoint();
    }
}
