using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;

namespace BatchOps.Engine.Tests.Store;

/// <summary>Counts and times per stage, kept by the store (a lookup), agreeing with a scan of the items through every kind of write.</summary>
public abstract partial class JobStoreContractTests
{
    protected static readonly DateTimeOffset T0 = new(2026, 12, 6, 8, 0, 0, TimeSpan.Zero);

    /// <summary>Three stages: fetch (250 items), apply (100, after fetch), notify (50).</summary>
    protected static JobRecord NewStagedJob() => NewJob("staged") with
    {
        Stages =
        [
            new JobStage { Name = "fetch", FirstIndex = 0, Count = 250, OperationKind = "exec", Operation = "{}" },
            new JobStage { Name = "apply", FirstIndex = 250, Count = 100, DependsOn = ["fetch"], OperationKind = "http", Operation = "{}" },
            new JobStage { Name = "notify", FirstIndex = 350, Count = 50, OperationKind = "exec", Operation = "{}" },
        ],
    };

    /// <summary>Creates <see cref="NewStagedJob"/> as creation does (blocks per stage) and writes a mix of outcomes over it.</summary>
    protected static async Task<JobRecord> RecordStagedWorkAsync(IJobStore store)
    {
        var job = NewStagedJob();
        await store.CreateJobAsync(job);
        foreach (var stage in job.Stages!)
        {
            await store.AddItemBlocksAsync(job.Id, [.. Enumerable.Range((int)stage.FirstIndex, (int)stage.Count).Select(i => new StoredItem { Index = i, Input = $"{i}" })], 100);
        }

        var error = new ItemError("E", "bad", null, false);
        ItemOutcome Ran(long index, ItemStatus status, int second) =>
            new(index, status, 1, "out", status == ItemStatus.Failed ? error : null, T0.AddSeconds(second), T0.AddSeconds(second + 1), TimeSpan.FromSeconds(1));

        // fetch: a whole block succeeds (one record), then a block with two failures (written out as rows).
        await store.CheckpointAsync(job.Id, [.. Enumerable.Range(0, 100).Select(i => Ran(i, ItemStatus.Succeeded, i / 10))]);
        await store.CheckpointAsync(job.Id, [.. Enumerable.Range(100, 100).Select(i => Ran(i, i is 107 or 157 ? ItemStatus.Failed : ItemStatus.Succeeded, 10 + (i - 100) / 10))]);

        // apply: ten succeed, two of them are then undone; notify: three are skipped without starting.
        await store.CheckpointAsync(job.Id, [.. Enumerable.Range(250, 10).Select(i => Ran(i, ItemStatus.Succeeded, 30))]);
        await store.RecordCompensationsAsync(job.Id, [Ran(250, ItemStatus.Compensated, 40), Ran(251, ItemStatus.Compensated, 40)]);
        await store.CheckpointAsync(job.Id, [.. Enumerable.Range(350, 3).Select(i => new ItemOutcome(i, ItemStatus.Skipped, 0, null, new ItemError("DependencyNotCompleted", "no", null, false), null, T0.AddSeconds(50), TimeSpan.Zero))]);
        return job;
    }

    [Fact]
    public async Task StageTallies_AreKeptThroughBlocksFailuresUndoSkipsAndRetry_AndAgreeWithTheItems()
    {
        using var store = CreateSut();
        var job = await RecordStagedWorkAsync(store);
        await store.ResetFailedAsync(job.Id, null);

        var tallies = await store.GetStageTalliesAsync(job);

        Assert.Equal(await StageTally.ScanAsync(store, job), tallies);
        Assert.Equal([0, 1, 2], tallies.Select(t => t.Stage));
        Assert.Equal((250L, 198L, 52L, 0L), (tallies[0].Counts.Total, tallies[0].Counts.Succeeded, tallies[0].Counts.Pending, tallies[0].Counts.Failed));
        Assert.Equal((100L, 8L, 2L, 90L), (tallies[1].Counts.Total, tallies[1].Counts.Succeeded, tallies[1].Counts.Compensated, tallies[1].Counts.Pending));
        Assert.Equal((50L, 3L, 47L), (tallies[2].Counts.Total, tallies[2].Counts.Skipped, tallies[2].Counts.Pending));
        Assert.Equal((T0, T0.AddSeconds(20)), (tallies[0].StartedAt, tallies[0].EndedAt));
        Assert.Equal((T0.AddSeconds(30), T0.AddSeconds(31)), (tallies[1].StartedAt, tallies[1].EndedAt));
        Assert.Equal(((DateTimeOffset?)null, (DateTimeOffset?)null), (tallies[2].StartedAt, tallies[2].EndedAt));
        Assert.Equal(400L, (await store.GetJobAsync(job.Id))!.Counts.Total);
    }

    [Fact]
    public async Task StageSummaries_SayEachStagesStatusAndRate_InRunOrder()
    {
        using var store = CreateSut();
        var job = await RecordStagedWorkAsync(store);

        var stages = await StageSummary.ReadAsync(store, job);

        Assert.Equal(["fetch", "apply", "notify"], stages.Select(s => s.Stage.Name));
        Assert.Equal(["Unfinished", "RolledBack", "Unfinished"], stages.Select(s => s.Status));
        Assert.Equal(200 / 20.0, stages[0].ItemsPerSecond);
        Assert.Null(stages[2].ItemsPerSecond);
    }

    [Fact]
    public async Task StageTallies_OfAJobWithoutStages_AreEmpty_AndItsCountsStayWhole()
    {
        using var store = CreateSut();
        var job = NewJob();
        await store.CreateJobAsync(job);
        await store.AddItemBlocksAsync(job.Id, [.. Enumerable.Range(0, 150).Select(i => new StoredItem { Index = i, Input = "x" })], 100);
        await store.CheckpointAsync(job.Id, [new ItemOutcome(120, ItemStatus.Failed, 1, null, new ItemError("E", "bad", null, false), T0, T0, TimeSpan.Zero)]);

        Assert.Empty(await store.GetStageTalliesAsync(job));
        var counts = (await store.GetJobAsync(job.Id))!.Counts;
        Assert.Equal((150L, 149L, 1L), (counts.Total, counts.Pending, counts.Failed));
    }
}
