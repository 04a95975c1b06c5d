using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Tests.Support;
using Polly.Timeout;

namespace BatchOps.Engine.Tests.Execution;

public class RetryAndTimeoutTests
{
    private static BatchOptions CreateOptions(FakeTimeProvider time, int retries) => new()
    {
        RetryCount = retries,
        RetryDelay = TimeSpan.FromSeconds(1),
        UseJitter = false,
        TimeProvider = time,
        ThrottleLimit = 2,
    };

    [Fact]
    public async Task RunAsync_TransientFailures_RetriedUntilSuccess()
    {
        var time = new FakeTimeProvider();
        var calls = new int[3];
        var (summary, observer) = await TimeSkipper.RunAsync(time, () => Run.ItemsAsync(Run.Range(3), (item, _) =>
        {
            // Item 1 fails twice, then succeeds.
            if (item.Index == 1 && Interlocked.Increment(ref calls[1]) <= 2)
            {
                throw new IOException("share busy");
            }

            return ValueTask.FromResult(item.Value);
        }, CreateOptions(time, retries: 3)));

        Assert.Equal(JobStatus.Completed, summary.Status);
        Assert.Equal(3, observer[1].Attempts);
        Assert.Equal(1, observer[0].Attempts);
        Assert.Equal(2, observer.Retries.Count);
    }

    [Fact]
    public async Task RunAsync_PersistentFailure_FailsAfterRetryCountPlusOneAttempts()
    {
        var time = new FakeTimeProvider();
        var (summary, observer) = await TimeSkipper.RunAsync(time, () => Run.ItemsAsync(Run.Range(1),
            (_, _) => throw new IOException("disk gone"), CreateOptions(time, retries: 2)));

        var result = observer[0];
        Assert.Equal(ItemStatus.Failed, result.Status);
        Assert.Equal(3, result.Attempts);
        Assert.Equal("System.IO.IOException", result.Error!.Type);
        Assert.Equal("disk gone", result.Error.Message);
        Assert.True(result.Error.IsRetryable);
        Assert.IsType<IOException>(result.Error.Exception);
        Assert.Equal(JobStatus.Failed, summary.Status);
    }

    [Fact]
    public async Task RunAsync_NonRetryableError_IsNotRetried()
    {
        var time = new FakeTimeProvider();
        var (_, observer) = await TimeSkipper.RunAsync(time, () => Run.ItemsAsync(Run.Range(2), (item, _) =>
            item.Index == 0
                ? throw new ArgumentException("bad host name")
                : throw new BatchOperationException("404 Not Found", isRetryable: false), CreateOptions(time, retries: 5)));

        Assert.All(observer.Results, r => Assert.Equal(1, r.Attempts));
        Assert.All(observer.Results, r => Assert.False(r.Error!.IsRetryable));
        Assert.Empty(observer.Retries);
    }

    [Fact]
    public async Task RunAsync_CustomRetryPredicate_ReplacesTheDefault()
    {
        var time = new FakeTimeProvider();
        var options = CreateOptions(time, retries: 2);
        options.IsRetryable = e => e is ArgumentException;
        var (_, observer) = await TimeSkipper.RunAsync(time, () => Run.ItemsAsync(Run.Range(2), (item, _) =>
            item.Index == 0 ? throw new ArgumentException("retry me") : throw new IOException("do not"), options));

        Assert.Equal(3, observer[0].Attempts);
        Assert.Equal(1, observer[1].Attempts);
    }

    [Fact]
    public async Task RunAsync_ExponentialBackoff_DoublesEachDelay()
    {
        var time = new FakeTimeProvider();
        var (_, observer) = await TimeSkipper.RunAsync(time, () => Run.ItemsAsync(Run.Range(1),
            (_, _) => throw new TimeoutException("slow"), CreateOptions(time, retries: 4)));

        Assert.Equal(
            [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(8)],
            observer.Retries.Select(r => r.Delay));
        Assert.Equal([1, 2, 3, 4], observer.Retries.Select(r => r.Attempt));
        Assert.True(observer[0].Duration >= TimeSpan.FromSeconds(15), $"Backoff should take 15 s of fake time, took {observer[0].Duration}.");
    }

    [Fact]
    public async Task RunAsync_Jitter_KeepsDelaysPositiveAndBounded()
    {
        var time = new FakeTimeProvider();
        var options = CreateOptions(time, retries: 6);
        options.UseJitter = true;
        options.MaxRetryDelay = TimeSpan.FromSeconds(10);
        var (_, observer) = await TimeSkipper.RunAsync(time, () => Run.ItemsAsync(Run.Range(1), (_, _) => throw new IOException("x"), options));

        Assert.Equal(6, observer.Retries.Count);
        Assert.All(observer.Retries, r => Assert.InRange(r.Delay, TimeSpan.Zero, TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task RunAsync_RetryAfterHint_OverridesBackoff()
    {
        var time = new FakeTimeProvider();
        var calls = 0;
        var (_, observer) = await TimeSkipper.RunAsync(time, () => Run.ItemsAsync(Run.Range(1), (item, _) =>
            Interlocked.Increment(ref calls) == 1
                ? throw new BatchOperationException("429 Too Many Requests", isRetryable: true, retryAfter: TimeSpan.FromSeconds(7))
                : ValueTask.FromResult(item.Value), CreateOptions(time, retries: 3)));

        var notice = Assert.Single(observer.Retries);
        Assert.Equal(TimeSpan.FromSeconds(7), notice.Delay);
        Assert.Equal(ItemStatus.Succeeded, observer[0].Status);
        Assert.True(observer[0].Duration >= TimeSpan.FromSeconds(7));
    }

    [Fact]
    public async Task RunAsync_HungAttempt_IsCancelledByTimeoutAndRetried()
    {
        var time = new FakeTimeProvider();
        var calls = 0;
        var firstAttemptCancelled = false;
        var options = CreateOptions(time, retries: 1);
        options.Timeout = TimeSpan.FromSeconds(5);
        var (_, observer) = await TimeSkipper.RunAsync(time, () => Run.ItemsAsync(Run.Range(1), async (item, ct) =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                try
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
                catch (OperationCanceledException)
                {
                    firstAttemptCancelled = true;
                    throw;
                }
            }

            return item.Value;
        }, options));

        Assert.True(firstAttemptCancelled);
        Assert.Equal(ItemStatus.Succeeded, observer[0].Status);
        Assert.Equal(2, observer[0].Attempts);
        Assert.Equal(typeof(TimeoutRejectedException).FullName, Assert.Single(observer.Retries).Error.Type);
    }

    [Fact]
    public async Task RunAsync_TimeoutWithoutRetries_FailsAsRetryableTimeout()
    {
        var time = new FakeTimeProvider();
        var options = CreateOptions(time, retries: 0);
        options.Timeout = TimeSpan.FromSeconds(2);
        var (summary, observer) = await TimeSkipper.RunAsync(time, () => Run.ItemsAsync(Run.Range(1), async (item, ct) =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            return item.Value;
        }, options));

        Assert.Equal(ItemStatus.Failed, observer[0].Status);
        Assert.Equal(typeof(TimeoutRejectedException).FullName, observer[0].Error!.Type);
        Assert.True(observer[0].Error!.IsRetryable);
        Assert.Equal(JobStatus.Failed, summary.Status);
    }

    [Fact]
    public async Task RunAsync_JobTimeout_CancelsRunningItemsAndFailsTheJob()
    {
        var time = new FakeTimeProvider();
        var options = CreateOptions(time, retries: 0);
        options.JobTimeout = TimeSpan.FromSeconds(30);
        options.ThrottleLimit = 2;
        var (summary, observer) = await TimeSkipper.RunAsync(time, () => Run.ItemsAsync(Run.Range(10), async (item, ct) =>
        {
            await Task.Delay(TimeSpan.FromMinutes(1), time, ct);
            return item.Value;
        }, options));

        Assert.Equal(JobStatus.Failed, summary.Status);
        Assert.Equal(StopReason.JobTimeout, summary.StopReason);
        Assert.Contains("JobTimeout", summary.Message, StringComparison.Ordinal);
        Assert.Equal(2, observer.Results.Count(r => r.Status == ItemStatus.Cancelled));
        Assert.Equal(8, observer.Results.Count(r => r.Status == ItemStatus.Skipped));
    }
}
