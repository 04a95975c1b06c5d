using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Tests.Support;

namespace BatchOps.Engine.Tests.Execution;

public class BisectionTests
{
    [Theory]
    [InlineData(1000, 100, new[] { 3 })]
    [InlineData(1000, 100, new[] { 3, 250, 251, 777, 999 })]
    [InlineData(1000, 128, new[] { 0, 1, 2, 3, 500 })]
    [InlineData(37, 37, new[] { 36 })]
    public async Task RunAsync_FailedChunk_BisectsToExactlyTheBadItemsWithinTheCallBound(int count, int chunkSize, int[] bad)
    {
        var badSet = bad.Select(i => (long)i).ToHashSet();
        var calls = 0;
        var (summary, observer) = await Run.ChunksAsync(Run.Range(count), (items, _) =>
        {
            Interlocked.Increment(ref calls);
            if (items.Any(i => badSet.Contains(i.Index)))
            {
                throw new InvalidOperationException("a row was rejected");
            }

            return ValueTask.FromResult<IReadOnlyList<int>?>(items.Select(i => i.Value * 10).ToArray());
        }, new BatchOptions { ChunkSize = chunkSize, ThrottleLimit = 4 });

        Assert.Equal(badSet.Order(), observer.Results.Where(r => r.Status == ItemStatus.Failed).Select(r => r.Index).Order());
        Assert.All(observer.Results.Where(r => !badSet.Contains(r.Index)), r =>
        {
            Assert.Equal(ItemStatus.Succeeded, r.Status);
            Assert.Equal(r.Input * 10, r.Output);
        });
        Assert.Equal(count, observer.Results.Count);
        Assert.Equal(badSet.Count, summary.Failed);

        var chunks = (count + chunkSize - 1) / chunkSize;
        // Halving reaches single items after ceil(log2 n) levels; for powers of two that is exactly log2 n.
        var bound = chunks + (2 * bad.Length * Math.Ceiling(Math.Log2(chunkSize)));
        Assert.True(calls <= bound, $"{calls} bulk calls exceed the bound {bound:F1}.");
    }

    [Fact]
    public async Task RunAsync_FailedItemAfterBisection_KeepsItsOwnErrorAndCallCount()
    {
        var (_, observer) = await Run.ChunksAsync(Run.Range(8), (items, _) =>
            items.Any(i => i.Index == 5) ? throw new InvalidOperationException("five") : ValueTask.FromResult<IReadOnlyList<int>?>(null),
            new BatchOptions { ChunkSize = 8, ThrottleLimit = 1 });

        var failed = observer[5];
        Assert.Equal("five", failed.Error!.Message);

        // 8 -> 4 -> 2 -> 1: the bad item took part in four calls.
        Assert.Equal(4, failed.Attempts);
        Assert.Equal(ItemStatus.Succeeded, observer[0].Status);
    }

    [Fact]
    public async Task RunAsync_BulkOperationReturnsWrongCount_FailsWithAClearMessage()
    {
        var (_, observer) = await Run.ChunksAsync(Run.Range(4), (_, _) => ValueTask.FromResult<IReadOnlyList<int>?>([1]),
            new BatchOptions { ChunkSize = 4 });

        Assert.All(observer.Results, r => Assert.Contains("returned 1 outputs for 4 items", r.Error!.Message, StringComparison.Ordinal));
        Assert.All(observer.Results, r => Assert.Equal(1, r.Attempts));
    }

    [Fact]
    public async Task RunAsync_BulkRetries_RetryTheWholeChunkBeforeSplitting()
    {
        var calls = 0;
        var (summary, observer) = await Run.ChunksAsync(Run.Range(10), (items, _) =>
            Interlocked.Increment(ref calls) == 1 ? throw new TimeoutException("blip") : ValueTask.FromResult<IReadOnlyList<int>?>(null),
            new BatchOptions { ChunkSize = 10, RetryCount = 2, RetryDelay = TimeSpan.Zero });

        Assert.Equal(2, calls);
        Assert.Equal(JobStatus.Completed, summary.Status);
        Assert.All(observer.Results, r => Assert.Equal(2, r.Attempts));
        Assert.Equal(10, Assert.Single(observer.Retries).Count);
    }

    [Fact]
    public async Task RunAsync_LimitException_SkipsTheCallsItemsWithoutBisectingAndStopsTheRun()
    {
        var calls = new List<long>();
        var (summary, observer) = await Run.ChunksAsync(Run.Range(100), (items, _) =>
        {
            lock (calls)
            {
                calls.Add(items[0].Index);
            }

            if (items[0].Index == 20)
            {
                throw new BatchLimitException("maxAffected 25 would be passed");
            }

            return ValueTask.FromResult<IReadOnlyList<int>?>(items.Select(i => i.Value).ToArray());
        }, new BatchOptions { ChunkSize = 10, ThrottleLimit = 1, RetryCount = 3 });

        Assert.Equal(JobStatus.Failed, summary.Status);
        Assert.Equal(StopReason.ErrorPolicy, summary.StopReason);
        Assert.Equal("maxAffected 25 would be passed", summary.Message);
        Assert.Equal(new long[] { 0, 10, 20 }, calls);
        Assert.Equal(20, summary.Succeeded);
        Assert.Equal(0, summary.Failed);
        // Items already read are reported Skipped; nothing further is read (a durable run records the rest).
        Assert.Equal(observer.Results.Count(r => r.Index >= 20), summary.Skipped);
        Assert.All(observer.Results.Where(r => r.Index >= 20), r => Assert.Equal(ItemStatus.Skipped, r.Status));
        Assert.All(observer.Results.Where(r => r.Index is >= 20 and < 30), r =>
        {
            Assert.Equal(ItemStatus.Skipped, r.Status);
            Assert.Equal("maxAffected 25 would be passed", r.Error!.Message);
            Assert.False(r.Error.IsRetryable);
        });
    }
}
