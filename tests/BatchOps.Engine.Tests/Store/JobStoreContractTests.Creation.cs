using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;

namespace BatchOps.Engine.Tests.Store;

/// <summary>The creating state: a job is there whole or not at all, for every reader, on every store that outlives a process.</summary>
public abstract partial class JobStoreContractTests
{
    [Fact]
    public async Task AJobBeingCreated_IsNotListedCountedOrRunnable_AndOneWhoseCreatorDied_IsRemovedWhenTheStoreIsNextOpened()
    {
        using var store = CreateSut();
        var now = TimeProvider.System.GetUtcNow();
        var live = NewJob("live-creation") with { Status = JobStatus.Creating, Lease = JobLease.ForCurrentProcess(now) };
        var dead = NewJob("cut-short") with { Status = JobStatus.Creating, Lease = new JobLease("another-host", 4242, DateTimeOffset.UnixEpoch, now - TimeSpan.FromMinutes(5)) };
        foreach (var job in new[] { live, dead })
        {
            await store.CreateJobAsync(job);
            await store.AddItemBlocksAsync(job.Id, [.. Enumerable.Range(0, 30).Select(i => new StoredItem { Index = i, Input = "x" })], 10);
        }

        Assert.Empty(await store.FindJobsAsync(new JobQuery()));
        Assert.Equal(0, await store.CountJobsAsync(new JobQuery { Name = "*" }));
        Assert.Equal(0, (await store.GetStatisticsAsync()).Jobs);
        Assert.Equal(2, (await store.FindJobsAsync(new JobQuery { Statuses = [JobStatus.Creating] })).Count);

        var runner = new JobRunner(store);
        var request = new JobRunRequest<string?, string?> { Operation = BatchOperation<string?, string?>.PerItem((item, _) => ValueTask.FromResult(item.Value)), InputCodec = TextPayloadCodec.Instance, OutputCodec = TextPayloadCodec.Instance };
        Assert.Contains("is still being created by process", (await Assert.ThrowsAsync<StoreException>(() => runner.RunAsync(live.Id, request))).Message, StringComparison.Ordinal);
        Assert.Contains("was never created whole", (await Assert.ThrowsAsync<StoreException>(() => runner.RunAsync(dead.Id, request))).Message, StringComparison.Ordinal);
        Assert.Equal(JobCreation.CutShortMessage, (await store.GetJobAsync(dead.Id))!.Message);
        Assert.False(await JobControl.RemoveAsync(store, (await store.GetJobAsync(live.Id))!, null));
        Assert.Equal(StopOutcome.NotRunning, await JobControl.StopAsync(store, (await store.GetJobAsync(dead.Id))!, StopMode.Graceful));

        // The next open (another process would do the same) removes the job whose creator is gone, items and all.
        using var second = OpenSecond();
        Assert.Null(await second.GetJobAsync(dead.Id));
        Assert.Empty(await second.GetItemsAsync(dead.Id, ItemQuery.All).ToListAsync());
        Assert.Equal(JobStatus.Creating, (await second.GetJobAsync(live.Id))!.Status);

        // Made Pending once its last item is recorded: listed, its creator's lease gone.
        await second.SetStatusAsync(live.Id, JobStatus.Pending, null);
        var listed = Assert.Single(await second.FindJobsAsync(new JobQuery()));
        Assert.Equal((live.Id, JobStatus.Pending, 30L), (listed.Id, listed.Status, listed.Counts.Pending));
        Assert.Null(listed.Lease);
    }
}
