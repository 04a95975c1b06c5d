using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Progress;
using BatchOps.Engine.Tests.Support;

namespace BatchOps.Engine.Tests.Execution;

public class FaultTests
{
    [Fact]
    public async Task RunAsync_InputEnumeratorThrows_FailsTheJobAndReportsEveryItemRead()
    {
        static IEnumerable<int> Source()
        {
            for (var i = 0; i < 50; i++)
            {
                yield return i;
            }

            throw new IOException("input file truncated");
        }

        var (summary, observer) = await Run.ItemsAsync(Source(), (item, _) => ValueTask.FromResult(item.Value), new BatchOptions { ChunkSize = 8 });

        Assert.Equal(JobStatus.Failed, summary.Status);
        Assert.Equal(StopReason.Fault, summary.StopReason);
        Assert.IsType<IOException>(summary.Fault);
        Assert.Contains("Reading the input failed after 50 item(s): input file truncated", summary.Message, StringComparison.Ordinal);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => (long)i), observer.Results.Select(r => r.Index).Order());
        Assert.Equal(50, summary.Total);
    }

    [Fact]
    public async Task RunAsync_ProgressObserverThrows_FailsTheJobAndReportsFinishedItems()
    {
        // The fake clock makes the progress timer fire exactly when item 100 moves time on.
        var time = new FakeTimeProvider();
        var observer = new ThrowingProgressObserver();

        // Items after 100 wait for it, so a busy machine cannot let them run ahead of the fault.
        var advanced = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var summary = await BatchExecutor.RunAsync(Run.Range(10_000), BatchOperation<int, int>.PerItem(async (item, _) =>
        {
            if (item.Index == 100)
            {
                time.Advance(TimeSpan.FromSeconds(1));
                advanced.TrySetResult();
            }
            else if (item.Index > 100)
            {
                await advanced.Task;
            }

            return item.Value;
        }), new BatchOptions { ProgressInterval = TimeSpan.FromMilliseconds(500), ThrottleLimit = 4, ChunkSize = 10, TimeProvider = time }, observer);

        Assert.Equal(JobStatus.Failed, summary.Status);
        Assert.Equal(StopReason.Fault, summary.StopReason);
        Assert.Contains("progress observer threw: console closed", summary.Message, StringComparison.Ordinal);
        Assert.Equal(summary.Total, observer.Results.Count);
        Assert.InRange(summary.Total, 101, 200);
        Assert.Equal(observer.Results.Count, observer.Results.Select(r => r.Index).Distinct().Count());
        Assert.Equal(summary.Succeeded, observer.Results.Count(r => r.Status == ItemStatus.Succeeded));
    }

    [Fact]
    public async Task RunAsync_CheckpointThrows_FailsTheJobKeepingReportedOutcomes()
    {
        var observer = new ThrowingCheckpointObserver();
        var summary = await BatchExecutor.RunAsync(Run.Range(100), BatchOperation<int, int>.PerItem((item, _) => ValueTask.FromResult(item.Value)),
            new BatchOptions { ChunkSize = 10, ThrottleLimit = 1 }, observer);

        Assert.Equal(JobStatus.Failed, summary.Status);
        Assert.Contains("Recording the outcomes of chunk 0 failed: disk full", summary.Message, StringComparison.Ordinal);
        Assert.Equal(summary.Total, observer.Results.Count);
    }

    private sealed class ThrowingProgressObserver : RecordingObserver<int, int>
    {
        public override void OnProgress(ProgressSnapshot snapshot) => throw new InvalidOperationException("console closed");
    }

    private sealed class ThrowingCheckpointObserver : RecordingObserver<int, int>
    {
        public override ValueTask OnChunkCompletedAsync(long chunk, IReadOnlyList<ItemResult<int, int>> results) => throw new IOException("disk full");
    }
}
