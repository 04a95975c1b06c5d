using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Tests.Support;

namespace BatchOps.Engine.Tests.Execution;

public class ErrorPolicyTests
{
    [Fact]
    public async Task RunAsync_ContinueByDefault_RunsEveryItemAndEndsCompletedWithErrors()
    {
        var (summary, observer) = await Run.ItemsAsync(Run.Range(50), (item, _) =>
            item.Index % 10 == 0 ? throw new InvalidOperationException($"bad {item.Index}") : ValueTask.FromResult(item.Value));

        Assert.Equal(JobStatus.CompletedWithErrors, summary.Status);
        Assert.Equal(StopReason.None, summary.StopReason);
        Assert.Equal((45, 5, 0), (summary.Succeeded, summary.Failed, summary.Skipped));
        Assert.Equal(50, observer.Results.Count);
        Assert.Equal("bad 30", observer[30].Error!.Message);
    }

    [Fact]
    public async Task RunAsync_StopOnError_SkipsEverythingAfterTheFirstFailure()
    {
        var (summary, observer) = await Run.ItemsAsync(Run.Range(100), (item, _) =>
            item.Index == 3 ? throw new InvalidOperationException("boom") : ValueTask.FromResult(item.Value),
            new BatchOptions { StopOnError = true, ThrottleLimit = 1, ChunkSize = 10 });

        Assert.Equal(JobStatus.Failed, summary.Status);
        Assert.Equal(StopReason.ErrorPolicy, summary.StopReason);
        Assert.Contains("StopOnError", summary.Message, StringComparison.Ordinal);
        Assert.Equal([0, 1, 2], observer.Results.Where(r => r.Status == ItemStatus.Succeeded).Select(r => r.Index).Order());
        Assert.Equal(ItemStatus.Failed, observer[3].Status);

        // Items already read (at most the chunks in flight) are reported Skipped; nothing further is read.
        var skipped = observer.Results.Where(r => r.Status == ItemStatus.Skipped).Select(r => r.Index).Order().ToArray();
        Assert.Equal(Enumerable.Range(4, (int)summary.Total - 4).Select(i => (long)i), skipped);
        Assert.All(observer.Results.Where(r => r.Status == ItemStatus.Skipped), r => Assert.Equal(0, r.Attempts));
        Assert.InRange(summary.Total, 10, 30);
    }

    [Fact]
    public async Task RunAsync_MaxErrors_StopsAtTheLimit()
    {
        var (summary, observer) = await Run.ItemsAsync(Run.Range(100), (item, _) =>
            item.Index % 2 == 1 ? throw new InvalidOperationException("odd") : ValueTask.FromResult(item.Value),
            new BatchOptions { MaxErrors = 3, ThrottleLimit = 1, ChunkSize = 5 });

        Assert.Equal(StopReason.ErrorPolicy, summary.StopReason);
        Assert.Equal(3, summary.Failed);
        Assert.Equal(3, summary.Succeeded);
        Assert.Contains("MaxErrors 3", summary.Message, StringComparison.Ordinal);
        Assert.Equal(ItemStatus.Failed, observer[5].Status);
        Assert.All(observer.Results.Where(r => r.Index > 5), r => Assert.Equal(ItemStatus.Skipped, r.Status));
    }

    [Fact]
    public async Task RunAsync_StopOnErrorInParallel_LetsRunningItemsFinish()
    {
        var othersRunning = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = 0;
        var (summary, observer) = await Run.ItemsAsync(Run.Range(40), async (item, ct) =>
        {
            if (item.Index == 0)
            {
                // Fails only once items 1-3 are running, then lets them finish.
                await othersRunning.Task.WaitAsync(TimeSpan.FromSeconds(10));
                // Long enough for the engine to record the failure and halt before the slots free up, on a
                // loaded machine too (20 ms once let all 36 start while a build ran beside the tests).
                _ = Task.Run(async () =>
                {
                    await Task.Delay(250);
                    release.TrySetResult();
                });
                throw new InvalidOperationException("first");
            }

            if (Interlocked.Increment(ref running) == 3)
            {
                othersRunning.TrySetResult();
            }

            await release.Task.WaitAsync(TimeSpan.FromSeconds(10));
            return item.Value;
        }, new BatchOptions { StopOnError = true, ThrottleLimit = 4, ChunkSize = 40 });

        Assert.Equal(JobStatus.Failed, summary.Status);
        Assert.All(new long[] { 1, 2, 3 }, i => Assert.Equal(ItemStatus.Succeeded, observer[i].Status));
        Assert.Equal(36, summary.Skipped);
    }

    [Fact]
    public async Task RunAsync_EveryItemFails_EndsFailed()
    {
        var (summary, _) = await Run.ItemsAsync(Run.Range(5), (_, _) => throw new InvalidOperationException("no"));

        Assert.Equal(JobStatus.Failed, summary.Status);
        Assert.Equal(StopReason.None, summary.StopReason);
    }
}
