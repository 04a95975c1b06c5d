using BatchOps.Engine.Execution;
using BatchOps.Engine.Tests.Support;

namespace BatchOps.Engine.Tests.Progress;

public class ProgressTests
{
    [Fact]
    public async Task RunAsync_WithoutTimePassing_PushesOnlyTheFinalSnapshotNotOnePerItem()
    {
        var time = new FakeTimeProvider();
        var (_, observer) = await Run.ItemsAsync(Run.Range(5_000), (item, _) => ValueTask.FromResult(item.Value), new BatchOptions { TimeProvider = time });

        var snapshot = Assert.Single(observer.Snapshots);
        Assert.True(snapshot.IsFinal);
        Assert.Equal((5_000L, 5_000L, 100.0), (snapshot.Total!.Value, snapshot.Succeeded, snapshot.Percent!.Value));
    }

    [Fact]
    public async Task RunAsync_ProgressInterval_BoundsSnapshotsAndReportsRateAndEta()
    {
        var time = new FakeTimeProvider();
        var options = new BatchOptions { TimeProvider = time, ProgressInterval = TimeSpan.FromSeconds(1), ThrottleLimit = 1, ChunkSize = 10 };
        // Each item moves the fake clock by 250 ms itself, so 40 items take exactly 10 s.
        var (_, observer) = await Run.ItemsAsync(Run.Range(40), (item, _) =>
        {
            time.Advance(TimeSpan.FromMilliseconds(250));
            return ValueTask.FromResult(item.Value);
        }, options);

        var snapshots = observer.Snapshots.ToArray();
        Assert.Equal(11, snapshots.Length);
        Assert.True(snapshots[^1].IsFinal);
        var middle = snapshots.First(s => s.Succeeded >= 16);
        Assert.Equal(40, middle.Total);
        Assert.InRange(middle.ItemsPerSecond, 3.5, 4.5);
        Assert.InRange(middle.EstimatedRemaining!.Value.TotalSeconds, (40 - middle.Completed) / 4.5, (40 - middle.Completed) / 3.5);
        Assert.InRange(middle.Running, 0, 1);
    }

    [Fact]
    public async Task RunAsync_UnknownTotal_HasNoPercentUntilInputEnds()
    {
        var time = new FakeTimeProvider();
        var observer = new RecordingObserver<int, int>();
        await TimeSkipper.RunAsync(time, () => BatchExecutor.RunAsync(
            BatchInput.From(Enumerable.Range(0, 30).Where(_ => true)),
            BatchOperation<int, int>.PerItem(async (item, ct) =>
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), time, ct);
                return item.Value;
            }),
            new BatchOptions { TimeProvider = time, ThrottleLimit = 1, ChunkSize = 5 },
            observer));

        var first = observer.Snapshots.First();
        Assert.Null(first.Percent);
        Assert.Null(first.EstimatedRemaining);
        Assert.Equal(100.0, observer.Snapshots.Last().Percent);
    }
}
