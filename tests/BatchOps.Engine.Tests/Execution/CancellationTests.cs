using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Tests.Support;

namespace BatchOps.Engine.Tests.Execution;

public class CancellationTests
{
    [Fact]
    public async Task RunAsync_GracefulStop_RunningItemsFinishAndTheRestAreCancelled()
    {
        using var stop = new BatchStopSource();
        var twoRunning = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = 0;
        var tokenFired = false;

        var run = Run.ItemsAsync(Run.Range(20), async (item, ct) =>
        {
            if (Interlocked.Increment(ref running) == 2)
            {
                twoRunning.TrySetResult();
            }

            await release.Task.WaitAsync(TimeSpan.FromSeconds(10));
            tokenFired |= ct.IsCancellationRequested;
            return item.Value;
        }, new BatchOptions { ThrottleLimit = 2, ChunkSize = 5 }, stop);

        await twoRunning.Task.WaitAsync(TimeSpan.FromSeconds(10));
        stop.Stop(StopMode.Graceful);
        release.SetResult();
        var (summary, observer) = await run;

        Assert.False(tokenFired);
        Assert.Equal(JobStatus.Cancelled, summary.Status);
        Assert.Equal(2, summary.Succeeded);
        Assert.Equal(observer.Results.Count - 2, summary.Cancelled);
        Assert.All(observer.Results.Where(r => r.Status == ItemStatus.Cancelled), r => Assert.Equal(0, r.Attempts));
    }

    [Fact]
    public async Task RunAsync_ForcedStop_CancelsRunningAttempts()
    {
        using var stop = new BatchStopSource();
        var twoRunning = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = 0;

        var run = Run.ItemsAsync(Run.Range(20), async (item, ct) =>
        {
            if (Interlocked.Increment(ref running) == 2)
            {
                twoRunning.TrySetResult();
            }

            await Task.Delay(Timeout.Infinite, ct);
            return item.Value;
        }, new BatchOptions { ThrottleLimit = 2, ChunkSize = 5, RetryCount = 3 }, stop);

        await twoRunning.Task.WaitAsync(TimeSpan.FromSeconds(10));
        stop.Stop(StopMode.Forced);
        var (summary, observer) = await run.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(JobStatus.Cancelled, summary.Status);
        Assert.Equal(0, summary.Failed);
        var cancelledRunning = observer.Results.Where(r => r.Attempts > 0).ToList();
        Assert.Equal(2, cancelledRunning.Count);
        Assert.All(cancelledRunning, r => Assert.Equal(ItemStatus.Cancelled, r.Status));
        Assert.All(cancelledRunning, r => Assert.Equal(1, r.Attempts));
    }

    [Fact]
    public async Task RunAsync_CallerToken_EndsCancelledNotFailed()
    {
        using var cts = new CancellationTokenSource();
        var (summary, observer) = await Run.ItemsAsync(Run.Range(100), async (item, ct) =>
        {
            if (item.Index == 10)
            {
                await cts.CancelAsync();
            }

            await Task.Delay(1, ct);
            return item.Value;
        }, new BatchOptions { ThrottleLimit = 1, ChunkSize = 20 }, cancellationToken: cts.Token);

        Assert.Equal(JobStatus.Cancelled, summary.Status);
        Assert.Equal(StopReason.Cancelled, summary.StopReason);
        Assert.Equal(0, summary.Failed);
        Assert.Equal(10, summary.Succeeded);
        Assert.Equal(ItemStatus.Cancelled, observer[10].Status);
        Assert.Equal(observer.Results.Count, summary.Succeeded + summary.Cancelled);
    }
}
