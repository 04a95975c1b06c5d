using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;

namespace BatchOps.Engine.Tests.Store;

/// <summary>Pruning by age and status, the same on every store: only ended jobs, never a running one; their items go too.</summary>
public abstract partial class JobStoreContractTests
{
    private static async Task<JobRecord> EndedWithItemsAsync(IJobStore store, string name, JobStatus status, int items)
    {
        var job = NewJob(name);
        await store.CreateJobAsync(job);
        await store.AddItemBlocksAsync(job.Id, [.. Enumerable.Range(0, items).Select(i => new StoredItem { Index = i, Input = $"{{\"host\":\"h{i}\"}}" })], 100);
        var lease = JobLease.ForCurrentProcess(DateTimeOffset.UtcNow);
        Assert.True(await store.TryAcquireLeaseAsync(job.Id, lease));
        await store.CheckpointAsync(job.Id, [.. Enumerable.Range(0, items).Select(i => new ItemOutcome(i, ItemStatus.Succeeded, 1, $"done h{i}", null, T0, T0.AddSeconds(1), TimeSpan.FromSeconds(1)))]);
        await store.ReleaseLeaseAsync(job.Id, lease, status, null);
        return (await store.GetJobAsync(job.Id))!;
    }

    [Fact]
    public async Task Prune_RemovesOnlyEndedJobsOfTheStatusesAsked_WithTheirItems_NeverOneThatRuns()
    {
        using var store = CreateSut();
        var done = await EndedWithItemsAsync(store, "done", JobStatus.Completed, 250);
        var failed = await EndedWithItemsAsync(store, "failed", JobStatus.Failed, 10);
        var running = NewJob("running");
        await store.CreateJobAsync(running);
        Assert.True(await store.TryAcquireLeaseAsync(running.Id, JobLease.ForCurrentProcess(DateTimeOffset.UtcNow)));
        var pending = NewJob("pending");
        await store.CreateJobAsync(pending);
        Assert.True(await store.GetJobBytesAsync(done.Id) > 250);

        // Forty days from now, everything that ended is older than thirty days.
        var later = DateTimeOffset.UtcNow.AddDays(40);
        Assert.Empty(await Prune.FindAsync(store, TimeSpan.FromDays(60), null, later));
        var candidates = await Prune.FindAsync(store, TimeSpan.FromDays(30), [JobStatus.Completed], later);
        Assert.Equal([done.Id], candidates.Select(c => c.Job.Id));
        Assert.Equal(new[] { done.Id, failed.Id }.Order(), (await Prune.FindAsync(store, TimeSpan.FromDays(30), null, later)).Select(c => c.Job.Id).Order());

        var result = await Prune.RemoveAsync(store, candidates, TimeSpan.FromDays(30), later);

        Assert.Equal((1, 250L), (result.Removed.Count, result.Items));
        Assert.Null(await store.GetJobAsync(done.Id));
        Assert.Empty(await store.GetItemsAsync(done.Id, ItemQuery.All).ToListAsync());
        Assert.NotNull(await store.GetJobAsync(failed.Id));
        Assert.NotNull(await store.GetJobAsync(running.Id));
        Assert.NotNull(await store.GetJobAsync(pending.Id));

        // A job that started running after it was found is left, saying why.
        var again = await Prune.FindAsync(store, TimeSpan.FromDays(30), null, later);
        Assert.Equal([failed.Id], again.Select(c => c.Job.Id));
        Assert.True(await store.TryAcquireLeaseAsync(failed.Id, JobLease.ForCurrentProcess(DateTimeOffset.UtcNow)));
        var raced = await Prune.RemoveAsync(store, again, TimeSpan.FromDays(30), later);
        Assert.Empty(raced.Removed);
        Assert.Equal("it is running", Assert.Single(raced.Left).Reason);
        Assert.Throws<ArgumentException>(() => Prune.FindAsync(store, TimeSpan.FromDays(1), [JobStatus.Running], later).GetAwaiter().GetResult());
    }

    [Fact]
    public async Task APruneWhileAnotherJobRecordsItems_RemovesTheOldJob_AndTheRunningJobLosesNothing()
    {
        using var store = CreateSut();
        var old = await EndedWithItemsAsync(store, "old", JobStatus.Completed, 12_000);
        var runner = new JobRunner(store);
        var live = await runner.CreateAsync(
            new JobDefinition { Name = "live", OperationKind = "test", Operation = "{}", Settings = new JobSettings { ChunkSize = 25, ThrottleLimit = 4 } },
            Enumerable.Range(0, 1_500).Select(i => (string?)$"item {i}"), TextPayloadCodec.Instance, TextPayloadCodec.Instance.Format);
        var running = runner.RunAsync(live.Id, new JobRunRequest<string?, string?>
        {
            Operation = BatchOperation<string?, string?>.PerItem(async (item, ct) =>
            {
                await Task.Delay(1, ct);
                return item.Value + " done";
            }),
            InputCodec = TextPayloadCodec.Instance,
            OutputCodec = TextPayloadCodec.Instance,
        });
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); (await store.GetJobAsync(live.Id))!.Counts.Succeeded < 100; await Task.Delay(10))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "the live job recorded nothing");
        }

        var later = DateTimeOffset.UtcNow.AddDays(40);
        var candidates = await Prune.FindAsync(store, TimeSpan.FromDays(30), null, later);
        var result = await Prune.RemoveAsync(store, candidates, TimeSpan.FromDays(30), later);
        var ran = await running.WaitAsync(TimeSpan.FromSeconds(120));

        // Found while it ran: only the old job (a running job is never a candidate), removed whole.
        Assert.Equal([old.Id], candidates.Select(c => c.Job.Id));
        Assert.Equal((1, 12_000L), (result.Removed.Count, result.Items));
        Assert.Null(await store.GetJobAsync(old.Id));
        Assert.Equal((JobStatus.Completed, 1_500L), (ran.Job.Status, ran.Job.Counts.Succeeded));
        var items = await store.GetItemsAsync(live.Id, ItemQuery.All).ToListAsync();
        Assert.Equal(Enumerable.Range(0, 1_500).Select(i => $"item {i} done"), items.Select(i => i.Output));
    }
}
