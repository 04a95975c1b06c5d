using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;

namespace BatchOps.Engine.Tests.Store;

/// <summary>The store contract, run against every store that keeps jobs across processes (SQLite, PostgreSQL).</summary>
public abstract partial class JobStoreContractTests
{
    /// <summary>A new, empty store.</summary>
    protected abstract IJobStore CreateSut();

    /// <summary>A second instance over the store <see cref="CreateSut"/> made (another process would open one).</summary>
    protected abstract IJobStore OpenSecond();

    protected static JobRecord NewJob(string name = "patch", params string[] tags) => new()
    {
        Id = JobRecord.NewId(),
        Name = name,
        Tags = tags,
        OperationKind = "exec",
        Operation = "{}",
    };

    [Fact]
    public async Task CheckpointAndQueries_RoundTripItemsAndCounts()
    {
        using var store = CreateSut();
        var job = NewJob("nightly", "prod", "db");
        await store.CreateJobAsync(job);
        await store.AddItemsAsync(job.Id, Enumerable.Range(0, 2500).Select(i => new StoredItem { Index = i, Key = $"k{i}", Input = $"{{\"n\":{i}}}" }).ToList());
        var error = new ItemError("System.IO.IOException", "share busy", "stderr tail", isRetryable: true);
        await store.CheckpointAsync(job.Id, [
            new ItemOutcome(1, ItemStatus.Succeeded, 2, "out-1", null, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddSeconds(1), TimeSpan.FromMilliseconds(12.5)),
            new ItemOutcome(2, ItemStatus.Failed, 3, null, error, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddSeconds(2), TimeSpan.FromSeconds(1)),
        ]);

        var stored = await store.GetJobAsync(job.Id);
        Assert.Equal((2500L, 1L, 1L, 2498L), (stored!.Counts.Total, stored.Counts.Succeeded, stored.Counts.Failed, stored.Counts.Pending));
        Assert.Equal(["prod", "db"], stored.Tags);

        var all = await store.GetItemsAsync(job.Id, ItemQuery.All).ToListAsync();
        Assert.Equal(Enumerable.Range(0, 2500).Select(i => (long)i), all.Select(i => i.Index));
        var failed = Assert.Single(await store.GetItemsAsync(job.Id, new ItemQuery { Statuses = [ItemStatus.Failed] }).ToListAsync());
        Assert.Equal((2L, 3, "share busy", "stderr tail", true), (failed.Index, failed.Attempts, failed.Error!.Message, failed.Error.Detail, failed.Error.IsRetryable));
        var picked = await store.GetItemsAsync(job.Id, new ItemQuery { Indexes = [2001, 1, 7] }).ToListAsync();
        Assert.Equal([1L, 7L, 2001L], picked.Select(i => i.Index));
        Assert.Equal("out-1", picked[0].Output);
        Assert.Equal(12.5, picked[0].Duration!.Value.TotalMilliseconds);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(70)]
    public async Task AddItemsAndCheckpoint_KeepEveryRowsOwnValues(int count)
    {
        using var store = CreateSut();
        var job = NewJob();
        await store.CreateJobAsync(job);
        var start = DateTimeOffset.UnixEpoch.AddDays(1);

        await store.AddItemsAsync(job.Id, Enumerable.Range(0, count).Select(i => new StoredItem { Index = i, Key = i % 3 == 0 ? null : $"k{i}", Input = $"in-{i}" }).ToList());
        await store.CheckpointAsync(job.Id, Enumerable.Range(0, count).Select(i => new ItemOutcome(
            i, i % 4 == 0 ? ItemStatus.Failed : ItemStatus.Succeeded, 1 + (i % 3), i % 4 == 0 ? null : $"out-{i}",
            i % 4 == 0 ? new ItemError($"Type{i}", $"message {i}", $"detail {i}", i % 8 == 0) : null,
            i % 5 == 0 ? null : start.AddSeconds(i), start.AddSeconds(i + 1), TimeSpan.FromMilliseconds(i + 0.5))).ToList());

        var items = await store.GetItemsAsync(job.Id, ItemQuery.All).ToListAsync();
        Assert.Equal(count, items.Count);
        foreach (var item in items)
        {
            var i = (int)item.Index;
            Assert.Equal(i % 3 == 0 ? null : $"k{i}", item.Key);
            Assert.Equal($"in-{i}", item.Input);
            Assert.Equal(i % 4 == 0 ? ItemStatus.Failed : ItemStatus.Succeeded, item.Status);
            Assert.Equal(1 + (i % 3), item.Attempts);
            Assert.Equal(i % 4 == 0 ? null : $"out-{i}", item.Output);
            Assert.Equal(i % 4 == 0 ? ($"Type{i}", $"message {i}", $"detail {i}", i % 8 == 0) : default, item.Error is { } e ? (e.Type, e.Message, e.Detail, e.IsRetryable) : default);
            Assert.Equal(i % 5 == 0 ? null : start.AddSeconds(i), item.StartedAt);
            Assert.Equal(start.AddSeconds(i + 1), item.EndedAt);
            Assert.Equal(i + 0.5, item.Duration!.Value.TotalMilliseconds);
        }
    }

    [Fact]
    public async Task FindJobs_FiltersByNameWildcardTagStatusAndNewest()
    {
        using var store = CreateSut();
        foreach (var (name, tag) in new[] { ("patch-web", "prod"), ("patch-db", "prod"), ("backup", "dev"), ("patch_x", "dev") })
        {
            await store.CreateJobAsync(NewJob(name, tag));
        }

        Assert.Equal(["patch_x", "patch-db", "patch-web"], (await store.FindJobsAsync(new JobQuery { Name = "PATCH*" })).Select(j => j.Name));
        Assert.Equal(["patch_x"], (await store.FindJobsAsync(new JobQuery { Name = "patch_?" })).Select(j => j.Name));
        Assert.Equal(["patch-db", "patch-web"], (await store.FindJobsAsync(new JobQuery { Tag = "prod" })).Select(j => j.Name));
        Assert.Single(await store.FindJobsAsync(new JobQuery { Newest = 1 }));
        Assert.Equal(4, (await store.FindJobsAsync(new JobQuery { Statuses = [JobStatus.Pending] })).Count);
        Assert.Empty(await store.FindJobsAsync(new JobQuery { Statuses = [JobStatus.Running] }));
    }

    [Fact]
    public async Task FindJobs_PagesNewestFirst_AndCountJobsCountsTheWholeMatch()
    {
        using var store = CreateSut();
        var created = DateTimeOffset.UnixEpoch.AddDays(100);
        for (var i = 0; i < 9; i++)
        {
            await store.CreateJobAsync(NewJob($"job{i}", i % 3 == 0 ? "nightly" : "adhoc") with { CreatedAt = created.AddMinutes(i) });
        }

        var page = await store.FindJobsAsync(new JobQuery { Skip = 2, Newest = 3 });
        Assert.Equal(["job6", "job5", "job4"], page.Select(j => j.Name));
        Assert.Equal(9, await store.CountJobsAsync(new JobQuery { Skip = 2, Newest = 3 }));

        var nightly = new JobQuery { Tag = "nightly", Skip = 1, Newest = 5 };
        Assert.Equal(["job3", "job0"], (await store.FindJobsAsync(nightly)).Select(j => j.Name));
        Assert.Equal(3, await store.CountJobsAsync(nightly));
        Assert.Empty(await store.FindJobsAsync(new JobQuery { Skip = 9 }));
    }

    [Fact]
    public async Task FindJobs_RunningAndInterruptedAreToldApartByTheOwner_WhenPaged()
    {
        using var store = CreateSut();
        var mine = JobLease.ForCurrentProcess(DateTimeOffset.UtcNow);
        var dead = mine with { ProcessId = int.MaxValue - 7 };
        var jobs = new List<JobRecord>();
        for (var i = 0; i < 5; i++)
        {
            var job = NewJob($"job{i}") with { CreatedAt = DateTimeOffset.UnixEpoch.AddMinutes(i) };
            await store.CreateJobAsync(job);
            jobs.Add(job);
        }

        // job0 and job2 run here; job1 and job3 were run by a process that is gone; job4 never ran.
        foreach (var (index, lease) in new[] { (0, mine), (2, mine), (1, dead), (3, dead) })
        {
            Assert.True(await store.TryAcquireLeaseAsync(jobs[index].Id, lease));
        }

        var interrupted = new JobQuery { Statuses = [JobStatus.Interrupted], Newest = 1 };
        Assert.Equal(["job3"], (await store.FindJobsAsync(interrupted)).Select(j => j.Name));
        Assert.Equal(2, await store.CountJobsAsync(interrupted));
        var running = new JobQuery { Statuses = [JobStatus.Running], Skip = 1 };
        Assert.Equal(["job0"], (await store.FindJobsAsync(running)).Select(j => j.Name));
        Assert.Equal(2, await store.CountJobsAsync(running));
        Assert.Equal(4, await store.CountJobsAsync(new JobQuery { Statuses = [JobStatus.Running, JobStatus.Interrupted] }));
        Assert.Equal(["job4"], (await store.FindJobsAsync(new JobQuery { Statuses = [JobStatus.Pending] })).Select(j => j.Name));
    }

    [Fact]
    public async Task GetItems_ByRareAndCommonStatuses_ReturnsEveryMatchInIndexOrderAcrossPages()
    {
        using var store = CreateSut();
        var job = NewJob();
        await store.CreateJobAsync(job);
        await store.AddItemsAsync(job.Id, Enumerable.Range(0, 10_000).Select(i => new StoredItem { Index = i, Input = "x" }).ToList());
        // 1,100 failed and a few dozen skipped (rare: read through the status index, over two pages); the rest pending.
        static ItemStatus StatusOf(int i) => i % 9 == 4 && i < 9_900 ? ItemStatus.Failed : i % 200 == 17 ? ItemStatus.Skipped : ItemStatus.Pending;
        await store.CheckpointAsync(job.Id, Enumerable.Range(0, 10_000).Where(i => StatusOf(i) != ItemStatus.Pending)
            .Select(i => new ItemOutcome(i, StatusOf(i), 1, null, StatusOf(i) == ItemStatus.Failed ? new ItemError("E", "bad", null, false) : null, null, DateTimeOffset.UnixEpoch, TimeSpan.Zero)).ToList());

        foreach (var statuses in new[] { [ItemStatus.Failed], [ItemStatus.Failed, ItemStatus.Skipped], new[] { ItemStatus.Pending, ItemStatus.Skipped } })
        {
            var expected = Enumerable.Range(0, 10_000).Where(i => statuses.Contains(StatusOf(i))).Select(i => (long)i).ToList();
            var read = await store.GetItemsAsync(job.Id, new ItemQuery { Statuses = statuses }).ToListAsync();
            Assert.Equal(expected, read.Select(i => i.Index));
            Assert.All(read, item => Assert.Equal(StatusOf((int)item.Index), item.Status));
        }

        Assert.Equal(1_100, (await store.GetJobAsync(job.Id))!.Counts.Failed);
    }

    [Fact]
    public async Task MixedCheckpoints_ReadBackExactlyAsRecorded_ThroughRecheckpointCompensationAndReset()
    {
        // Runs of successes a store may keep as one record (one larger than a page, many small ones, one
        // too small), failures among successes, untouched items: every read answers as if each item were
        // its own row.
        using var store = CreateSut();
        var job = NewJob();
        await store.CreateJobAsync(job);
        await store.AddItemsAsync(job.Id, Enumerable.Range(0, 3000).Select(i => new StoredItem { Index = i, Key = $"k{i}", Input = $"in{i}" }).ToList());
        var model = new Dictionary<long, ItemOutcome>();
        Task RecordAsync(IEnumerable<ItemOutcome> outcomes) => CheckpointModelAsync(store, job.Id, model, outcomes);

        await RecordAsync(Enumerable.Range(0, 2500).Select(i => Done(i)));
        for (var first = 2500; first < 2700; first += 8)
        {
            await RecordAsync(Enumerable.Range(first, 8).Select(i => Done(i)));
        }

        await RecordAsync(Enumerable.Range(2700, 100).Select(i => Done(i, i == 2750 ? ItemStatus.Failed : ItemStatus.Succeeded)));
        await RecordAsync(Enumerable.Range(2800, 7).Select(i => Done(i)));
        await RecordAsync(Enumerable.Range(2810, 90).Select(i => Done(i, ItemStatus.Skipped)));
        await AssertReadsMatchAsync(store, job.Id, model);

        // A failure recorded over an item a success run holds, then reset for retry.
        await RecordAsync([Done(1234, ItemStatus.Failed)]);
        await AssertReadsMatchAsync(store, job.Id, model);
        Assert.Equal([1234L, 2750L], await store.ResetFailedAsync(job.Id, null));
        model.Remove(1234);
        model.Remove(2750);
        Assert.Equal(ItemStatus.Failed, Assert.Single(await store.GetItemHistoryAsync(job.Id, 1234)).Status);
        await AssertReadsMatchAsync(store, job.Id, model);

        // Undo of items inside success runs: their outputs stay, their successes go to history.
        await store.RecordCompensationsAsync(job.Id, [new ItemOutcome(2604, ItemStatus.Compensated, 1, null, null, null, DateTimeOffset.UnixEpoch, TimeSpan.Zero)]);
        await store.RecordCompensationsAsync(job.Id, [new ItemOutcome(100, ItemStatus.Compensated, 1, null, null, null, DateTimeOffset.UnixEpoch, TimeSpan.Zero)]);
        model[2604] = model[2604] with { Status = ItemStatus.Compensated, Attempts = 1, StartedAt = null, EndedAt = DateTimeOffset.UnixEpoch, Duration = TimeSpan.Zero };
        model[100] = model[100] with { Status = ItemStatus.Compensated, Attempts = 1, StartedAt = null, EndedAt = DateTimeOffset.UnixEpoch, Duration = TimeSpan.Zero };
        Assert.Equal(ItemStatus.Succeeded, Assert.Single(await store.GetItemHistoryAsync(job.Id, 2604)).Status);
        await AssertReadsMatchAsync(store, job.Id, model);

        Assert.True(await store.RemoveJobAsync(job.Id));
        Assert.Empty(await store.GetItemsAsync(job.Id, ItemQuery.All).ToListAsync());
    }

    [Fact]
    public async Task ItemsAddedAsChunks_ReadBackExactlyAsRecorded_ThroughWholePartialAndSpanningCheckpoints()
    {
        // New items recorded a chunk at a time (a store may keep each chunk as one Pending record), then
        // chunks that succeed whole, a chunk with a failure, half a chunk, a checkpoint spanning two chunks
        // and a sparse retry: every read answers as if each item were its own row.
        using var store = CreateSut();
        var job = NewJob();
        await store.CreateJobAsync(job);
        await store.AddItemBlocksAsync(job.Id, Enumerable.Range(0, 2950).Select(i => new StoredItem { Index = i, Key = $"k{i}", Input = $"in{i}" }).ToList(), 100);
        await store.AddItemBlocksAsync(job.Id, Enumerable.Range(2950, 50).Select(i => new StoredItem { Index = i, Key = $"k{i}", Input = $"in{i}" }).ToList(), 100);
        var model = new Dictionary<long, ItemOutcome>();
        await AssertReadsMatchAsync(store, job.Id, model);
        Task RecordAsync(IEnumerable<ItemOutcome> outcomes) => CheckpointModelAsync(store, job.Id, model, outcomes);

        for (var first = 0; first < 1200; first += 100)
        {
            await RecordAsync(Enumerable.Range(first, 100).Select(i => Done(i)));
        }

        await RecordAsync(Enumerable.Range(1200, 100).Select(i => Done(i, i == 1250 ? ItemStatus.Failed : ItemStatus.Succeeded)));
        await RecordAsync(Enumerable.Range(1300, 50).Select(i => Done(i)));
        await RecordAsync(Enumerable.Range(1400, 200).Select(i => Done(i)));
        await RecordAsync(Enumerable.Range(2950, 50).Select(i => Done(i)));
        await RecordAsync([Done(2001, ItemStatus.Skipped), Done(2003, ItemStatus.Cancelled)]);
        await AssertReadsMatchAsync(store, job.Id, model);

        // Whole chunks recorded again, a failure inside a chunk that succeeded whole, then reset and undo.
        await RecordAsync(Enumerable.Range(100, 100).Select(i => Done(i) with { Attempts = 7 }));
        await RecordAsync([Done(555, ItemStatus.Failed)]);
        Assert.Equal([555L, 1250L], await store.ResetFailedAsync(job.Id, null));
        model.Remove(555);
        model.Remove(1250);
        await store.RecordCompensationsAsync(job.Id, [new ItemOutcome(777, ItemStatus.Compensated, 1, null, null, null, DateTimeOffset.UnixEpoch, TimeSpan.Zero)]);
        model[777] = model[777] with { Status = ItemStatus.Compensated, Attempts = 1, StartedAt = null, EndedAt = DateTimeOffset.UnixEpoch, Duration = TimeSpan.Zero };
        await AssertReadsMatchAsync(store, job.Id, model);

        // What is left, as a resume reads it, then the rest succeeding chunk by chunk.
        var left = await store.GetItemsAsync(job.Id, ItemQuery.Unfinished with { InputsOnly = true }).ToListAsync();
        Assert.Equal(Enumerable.Range(0, 3000).Where(i => !model.ContainsKey(i) || model[i].Status is ItemStatus.Skipped or ItemStatus.Cancelled).Select(i => (long)i), left.Select(i => i.Index));
        foreach (var chunk in left.Chunk(100))
        {
            await RecordAsync(chunk.Select(i => Done(i.Index)));
        }

        await AssertReadsMatchAsync(store, job.Id, model);
        Assert.Equal(0, (await store.GetJobAsync(job.Id))!.Counts.Unfinished);
    }

    /// <summary>Checkpoints outcomes and records them in the model the reads are checked against.</summary>
    private static async Task CheckpointModelAsync(IJobStore store, string jobId, Dictionary<long, ItemOutcome> model, IEnumerable<ItemOutcome> outcomes)
    {
        var list = outcomes.ToList();
        await store.CheckpointAsync(jobId, list);
        list.ForEach(o => model[o.Index] = o);
    }

    /// <summary>An outcome of item <paramref name="i"/> whose every field is told from its index (attempts, output, times).</summary>
    private static ItemOutcome Done(long i, ItemStatus status = ItemStatus.Succeeded) => new(
        i, status, 1 + (int)(i % 3), status == ItemStatus.Succeeded && i % 2 == 0 ? $"out{i}" : null, status == ItemStatus.Failed ? new ItemError("E", $"bad {i}", null, false) : null,
        DateTimeOffset.UnixEpoch.AddSeconds(i), DateTimeOffset.UnixEpoch.AddSeconds(i + 1), TimeSpan.FromMilliseconds(i + 0.5));

    /// <summary>Every kind of read against the model (index → outcome; absent: Pending): all, by status, by index, windows, inputs only, counts.</summary>
    private static async Task AssertReadsMatchAsync(IJobStore store, string jobId, Dictionary<long, ItemOutcome> model)
    {
        ItemStatus StatusOf(long i) => model.TryGetValue(i, out var o) ? o.Status : ItemStatus.Pending;
        void AssertItem(StoredItem item)
        {
            Assert.Equal(($"k{item.Index}", $"in{item.Index}"), (item.Key, item.Input));
            if (!model.TryGetValue(item.Index, out var o))
            {
                Assert.Equal((ItemStatus.Pending, 0, (string?)null), (item.Status, item.Attempts, item.Output));
                return;
            }

            Assert.Equal((o.Status, o.Attempts, o.Status == ItemStatus.Compensated ? item.Output : o.Output, o.Error?.Message), (item.Status, item.Attempts, item.Output, item.Error?.Message));
            Assert.Equal((o.StartedAt, o.EndedAt, o.Duration), (item.StartedAt, item.EndedAt, item.Duration));
        }

        var all = await store.GetItemsAsync(jobId, ItemQuery.All).ToListAsync();
        Assert.Equal(Enumerable.Range(0, 3000).Select(i => (long)i), all.Select(i => i.Index));
        all.ForEach(AssertItem);
        foreach (var statuses in new ItemStatus[][] { [ItemStatus.Succeeded], [ItemStatus.Failed], [ItemStatus.Succeeded, ItemStatus.Skipped], [.. ItemQuery.Unfinished.Statuses!], [ItemStatus.Compensated], [ItemStatus.Pending], [ItemStatus.Pending, ItemStatus.Succeeded] })
        {
            var read = await store.GetItemsAsync(jobId, new ItemQuery { Statuses = statuses }).ToListAsync();
            Assert.Equal(Enumerable.Range(0, 3000).Where(i => statuses.Contains(StatusOf(i))).Select(i => (long)i), read.Select(i => i.Index));
        }

        long[] picks = [0, 100, 999, 1000, 1234, 2499, 2500, 2507, 2508, 2604, 2699, 2750, 2806, 2807, 2999, 5000];
        var picked = await store.GetItemsAsync(jobId, new ItemQuery { Indexes = picks }).ToListAsync();
        Assert.Equal(picks.Where(i => i < 3000), picked.Select(i => i.Index));
        picked.ForEach(AssertItem);
        var window = await store.GetItemsAsync(jobId, new ItemQuery { FirstIndex = 1500, LastIndex = 2601, Statuses = [ItemStatus.Succeeded] }).ToListAsync();
        Assert.Equal(Enumerable.Range(1500, 1102).Where(i => StatusOf(i) == ItemStatus.Succeeded).Select(i => (long)i), window.Select(i => i.Index));
        var inputs = await store.GetItemsAsync(jobId, ItemQuery.All with { InputsOnly = true, FirstIndex = 2400 }).ToListAsync();
        Assert.Equal(Enumerable.Range(2400, 600).Select(i => ((long)i, (string?)$"k{i}", $"in{i}")), inputs.Select(i => (i.Index, i.Key, i.Input)));

        var counts = (await store.GetJobAsync(jobId))!.Counts;
        Assert.Equal(
            (3000L, 3000 - model.Count, model.Values.Count(o => o.Status == ItemStatus.Succeeded), model.Values.Count(o => o.Status == ItemStatus.Failed), model.Values.Count(o => o.Status == ItemStatus.Compensated)),
            (counts.Total, counts.Pending, counts.Succeeded, counts.Failed, counts.Compensated));
    }

    [Fact]
    public async Task Lease_LiveOwnerBlocksOthersAndDeadOwnerShowsInterrupted()
    {
        using var store = CreateSut();
        var job = NewJob();
        await store.CreateJobAsync(job);
        var mine = JobLease.ForCurrentProcess(DateTimeOffset.UtcNow);
        var otherLive = mine with { ProcessId = 1, ProcessStartedAt = StartTimeOfPid1() };

        Assert.True(await store.TryAcquireLeaseAsync(job.Id, mine));
        Assert.Equal(JobStatus.Running, (await store.GetJobAsync(job.Id))!.Status);
        Assert.False(await store.TryAcquireLeaseAsync(job.Id, otherLive));

        await store.RequestStopAsync(job.Id, StopMode.Graceful);
        Assert.Equal(StopMode.Graceful, await store.RenewLeaseAsync(job.Id, mine));
        await store.RequestStopAsync(job.Id, StopMode.Forced);
        Assert.Equal(StopMode.Forced, await store.RenewLeaseAsync(job.Id, mine));

        // A lease held by a process that no longer exists reads as Interrupted and can be taken over.
        var dead = mine with { ProcessId = int.MaxValue - 7 };
        await store.ReleaseLeaseAsync(job.Id, mine, JobStatus.Cancelled, "stopped");
        Assert.True(await store.TryAcquireLeaseAsync(job.Id, dead));
        Assert.Equal(JobStatus.Interrupted, (await store.GetJobAsync(job.Id))!.Status);
        Assert.True(await store.TryAcquireLeaseAsync(job.Id, mine));
        Assert.Equal(3, (await store.GetJobAsync(job.Id))!.RunCount);
    }

    [Fact]
    public async Task ResetFailed_KeepsEarlierErrorInHistory()
    {
        using var store = CreateSut();
        var job = NewJob();
        await store.CreateJobAsync(job);
        await store.AddItemsAsync(job.Id, Enumerable.Range(0, 3).Select(i => new StoredItem { Index = i, Input = "x" }).ToList());
        var error = new ItemError("System.TimeoutException", "slow", null, true);
        await store.CheckpointAsync(job.Id, [
            new ItemOutcome(0, ItemStatus.Failed, 2, null, error, null, DateTimeOffset.UnixEpoch, TimeSpan.Zero),
            new ItemOutcome(1, ItemStatus.Succeeded, 1, "ok", null, null, DateTimeOffset.UnixEpoch, TimeSpan.Zero),
            new ItemOutcome(2, ItemStatus.Failed, 1, null, error, null, DateTimeOffset.UnixEpoch, TimeSpan.Zero),
        ]);

        Assert.Equal([2L], await store.ResetFailedAsync(job.Id, [2, 1]));
        Assert.Equal([0L], await store.ResetFailedAsync(job.Id, null));

        var history = Assert.Single(await store.GetItemHistoryAsync(job.Id, 0));
        Assert.Equal((ItemStatus.Failed, 2, "slow"), (history.Status, history.Attempts, history.Error!.Message));
        var counts = (await store.GetJobAsync(job.Id))!.Counts;
        Assert.Equal((2L, 1L, 0L), (counts.Pending, counts.Succeeded, counts.Failed));
    }

    [Fact]
    public async Task RemoveJob_DeletesJobItemsAndHistory()
    {
        using var store = CreateSut();
        var job = NewJob();
        await store.CreateJobAsync(job);
        await store.AddItemsAsync(job.Id, [new StoredItem { Index = 0, Input = "x" }]);

        Assert.True(await store.RemoveJobAsync(job.Id));
        Assert.Null(await store.GetJobAsync(job.Id));
        Assert.Empty(await store.GetItemsAsync(job.Id, ItemQuery.All).ToListAsync());
        Assert.False(await store.RemoveJobAsync(job.Id));
    }

    [Fact]
    public async Task TwoStoreInstances_WritingAtOnce_LoseNoUpdates()
    {
        using var first = CreateSut();
        using var second = OpenSecond();
        var job = NewJob();
        await first.CreateJobAsync(job);
        await first.AddItemsAsync(job.Id, Enumerable.Range(0, 2000).Select(i => new StoredItem { Index = i, Input = "x" }).ToList());

        async Task WriteHalf(IJobStore store, int parity)
        {
            foreach (var chunk in Enumerable.Range(0, 2000).Where(i => i % 2 == parity).Chunk(50))
            {
                await Task.Run(() => store.CheckpointAsync(job.Id, chunk.Select(i => new ItemOutcome(i, ItemStatus.Succeeded, 1, $"{parity}", null, null, DateTimeOffset.UnixEpoch, TimeSpan.Zero)).ToList()));
            }
        }

        await Task.WhenAll(WriteHalf(first, 0), WriteHalf(second, 1));

        Assert.Equal(2000, (await second.GetJobAsync(job.Id))!.Counts.Succeeded);
    }

    private static DateTimeOffset StartTimeOfPid1()
    {
        using var init = System.Diagnostics.Process.GetProcessById(1);
        return new DateTimeOffset(init.StartTime.ToUniversalTime(), TimeSpan.Zero);
    }
}
