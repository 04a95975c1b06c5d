using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using BatchOps.Engine.Workers;

namespace BatchOps.Engine.Tests.Workers;

/// <summary>Staged jobs queued for workers: each stage claimable once every stage it depends on completed.</summary>
public partial class JobWorkerTests
{
    private static readonly WorkerIdentity Hand = new("by-hand", "host", 1);

    /// <summary>Creates and queues a staged job of kind "test" stages: (name, items, depends on, chunk size), items numbered across stages.</summary>
    private async Task<JobRecord> QueueStagedAsync(params (string Name, int Count, string[] After, int ChunkSize)[] stages)
    {
        var first = 0L;
        var list = new List<JobStage>();
        foreach (var (name, count, after, chunkSize) in stages)
        {
            list.Add(new JobStage { Name = name, FirstIndex = first, Count = count, DependsOn = after, OperationKind = "test", Operation = "{}", Settings = new JobSettings { ChunkSize = chunkSize } });
            first += count;
        }

        var job = await new JobRunner(_store).CreateAsync(
            new JobDefinition { Name = "staged", OperationKind = "stages", Operation = "{}", Settings = new JobSettings { ThrottleLimit = 2 }, Stages = list },
            Enumerable.Range(0, (int)first).Select(i => JsonSerializer.SerializeToElement(i)), JsonPayloadCodec.Instance, "text");
        await _store.EnqueueAsync(job.Id);
        return job;
    }

    /// <summary>A handler whose operation is the stage's own: <paramref name="work"/> is told which stage's operation runs.</summary>
    private static QueuedJobHandler StagedHandler(Func<string, int, CancellationToken, Task<string?>> work) => QueuedJobHandler.Create(new JobRunRequest<JsonElement, string?>
    {
        StageOperation = stage => BatchOperation<JsonElement, string?>.PerItem((item, ct) => new ValueTask<string?>(work(stage.Name, item.Value.GetInt32(), ct))),
        InputCodec = JsonPayloadCodec.Instance,
        OutputCodec = TextPayloadCodec.Instance,
    });

    /// <summary>Claims and records every claimable chunk of the job by hand, as a worker that then died before moving the job on.</summary>
    private async Task<int> RecordClaimableChunksAsync(string jobId)
    {
        var recorded = 0;
        while (await _store.ClaimNextAsync(Hand, jobId, ["test"], TimeSpan.FromMinutes(1)) is { } chunk)
        {
            var outcomes = chunk.Items.Select(i => new ItemOutcome(i.Index, ItemStatus.Succeeded, 1, "by hand", null, null, DateTimeOffset.UtcNow, TimeSpan.Zero)).ToList();
            Assert.True(await _store.CompleteAsync(chunk.Claim, outcomes, default));
            recorded++;
        }

        return recorded;
    }

    [Fact]
    public async Task StagedJob_Queued_RunsEachStageWithItsOwnOperationAndChunkSize_OnlyAfterEveryStageItDependsOn()
    {
        // a (0-39) and c (80-109) are independent; b (40-89) after a; d (110-129) after b and c.
        var job = await QueueStagedAsync(("a", 40, [], 10), ("b", 50, ["a"], 25), ("c", 30, [], 10), ("d", 20, ["b", "c"], 10));
        var runs = new ConcurrentDictionary<int, (string Stage, long Start, long End)>();
        var twice = new ConcurrentBag<int>();
        var handler = StagedHandler(async (stage, n, ct) =>
        {
            var start = Stopwatch.GetTimestamp();
            await Task.Delay(1, ct);
            if (!runs.TryAdd(n, (stage, start, Stopwatch.GetTimestamp())))
            {
                twice.Add(n);
            }

            return $"{stage}:{n}";
        });
        var events = new ConcurrentQueue<WorkerEvent>();
        var workers = new[] { Worker(handler, "w1"), Worker(handler, "w2") };
        foreach (var worker in workers)
        {
            worker.Reported += events.Enqueue;
        }

        var ended = await RunUntilEndedAsync(job.Id, workers);

        Assert.Equal((JobStatus.Completed, 140L), (ended.Status, ended.Counts.Succeeded));
        Assert.Empty(twice);
        Assert.Equal(Enumerable.Range(0, 140), runs.Keys.Order());
        Assert.All(runs, r => Assert.Equal(job.StageOf(r.Key)!.Name, r.Value.Stage));
        (long FirstStart, long LastEnd) Span(string stage)
        {
            var of = runs.Values.Where(r => r.Stage == stage).ToList();
            return (of.Min(r => r.Start), of.Max(r => r.End));
        }

        Assert.True(Span("b").FirstStart > Span("a").LastEnd, "stage b started before stage a ended");
        Assert.True(Span("d").FirstStart > Span("b").LastEnd, "stage d started before stage b ended");
        Assert.True(Span("d").FirstStart > Span("c").LastEnd, "stage d started before stage c ended");
        var claimed = events.Where(e => e.Kind == WorkerEventKind.Claimed).Select(e => e.Message[..e.Message.IndexOf(" of ", StringComparison.Ordinal)]).ToList();
        Assert.Equal(["items 40-64", "items 65-89"], claimed.Where(c => int.Parse(c.Split(' ', '-')[1], System.Globalization.CultureInfo.InvariantCulture) is >= 40 and < 90).Order());
        Assert.Equal(["b", "d"], events.Where(e => e.Kind == WorkerEventKind.StageOpened).Select(e => e.Message.Split('\'')[3]).Order());
        var item = Assert.Single(await _store.GetItemsAsync(job.Id, new ItemQuery { Indexes = [100] }).ToListAsync());
        Assert.Equal("c:100", item.Output);
    }

    [Fact]
    public async Task StagedJob_Queued_ADependencyThatFails_SkipsEveryStageAfterIt_WithTheReason_AndTheRestRuns()
    {
        var job = await QueueStagedAsync(("a", 20, [], 10), ("b", 20, ["a"], 10), ("c", 10, ["b"], 10), ("e", 10, [], 10));
        var ran = new ConcurrentBag<(string Stage, int Item)>();
        var handler = StagedHandler((stage, n, _) =>
        {
            ran.Add((stage, n));
            return n == 5 ? throw new InvalidOperationException("item 5 is bad") : Task.FromResult<string?>("ok");
        });
        var skipped = new ConcurrentQueue<string>();
        var worker = Worker(handler, "w1");
        worker.Reported += e =>
        {
            if (e.Kind == WorkerEventKind.StageSkipped)
            {
                skipped.Enqueue(e.Message);
            }
        };

        var ended = await RunUntilEndedAsync(job.Id, worker);

        Assert.Equal(JobStatus.Failed, ended.Status);
        Assert.Equal((29L, 1L, 30L), (ended.Counts.Succeeded, ended.Counts.Failed, ended.Counts.Skipped));
        Assert.Equal(["a", "e"], ran.Select(r => r.Stage).Distinct().Order());
        var items = await _store.GetItemsAsync(job.Id, ItemQuery.All).ToListAsync();
        Assert.All(items.Where(i => i.Index is >= 20 and < 40), i =>
        {
            Assert.Equal(ItemStatus.Skipped, i.Status);
            Assert.Equal((JobRunner.DependencyNotCompleted, "stage 'b' did not run: its dependency 'a' did not complete"), (i.Error!.Type, i.Error.Message));
        });
        Assert.All(items.Where(i => i.Index is >= 40 and < 50), i => Assert.Equal("stage 'c' did not run: its dependency 'b' did not complete", i.Error!.Message));
        Assert.All(items.Where(i => i.Index >= 50), i => Assert.Equal(ItemStatus.Succeeded, i.Status));
        Assert.Equal(2, skipped.Count);
        Assert.Contains("20 unfinished item(s) are recorded Skipped", skipped.First(), StringComparison.Ordinal);
        Assert.Equal("30 item(s) have not run: a stage they depend on did not complete. Retry its failed items, then queue the job again.", ended.Message);
    }

    [Fact]
    public async Task Queue_StagedJob_OnlyStagesWhoseDependenciesCompleted_AreClaimable_AndAdvancingOpensTheNext()
    {
        var job = await QueueStagedAsync(("a", 10, [], 10), ("b", 10, ["a"], 5), ("c", 10, ["b"], 10));

        // Only a's chunk can be claimed; b waits while a has a chunk left, then opens with its own chunk size.
        var a = await _store.ClaimNextAsync(Hand, job.Id, ["test"], TimeSpan.FromMinutes(1));
        Assert.Equal((0L, 9L, "a"), (a!.Claim.FirstIndex, a.Claim.LastIndex, a.Claim.Stage));
        Assert.Null(await _store.ClaimNextAsync(Hand, job.Id, ["test"], TimeSpan.FromMinutes(1)));
        Assert.Null(await _store.ClaimAsync(Hand, ["test"], [], TimeSpan.FromMinutes(1)));
        Assert.Empty(await _store.AdvanceStagesAsync(job.Id));
        Assert.DoesNotContain(job.Id, await _store.StalledJobsAsync());

        Assert.True(await _store.CompleteAsync(a.Claim, [.. a.Items.Select(i => new ItemOutcome(i.Index, ItemStatus.Succeeded, 1, null, null, null, DateTimeOffset.UtcNow, TimeSpan.Zero))], default));
        Assert.Contains(job.Id, await _store.StalledJobsAsync());
        var opened = Assert.Single(await _store.AdvanceStagesAsync(job.Id));
        Assert.Equal(("b", true, 2L), (opened.Stage, opened.Opened, opened.Count));
        Assert.Empty(await _store.AdvanceStagesAsync(job.Id));
        Assert.DoesNotContain(job.Id, await _store.StalledJobsAsync());
        var b = await _store.ClaimNextAsync(Hand, job.Id, ["test"], TimeSpan.FromMinutes(1));
        Assert.Equal((10L, 14L, "b"), (b!.Claim.FirstIndex, b.Claim.LastIndex, b.Claim.Stage));

        // Cancelled with b half claimed: queued again, a is complete, so b's chunks are claimable at once, c's are not.
        Assert.True(await _store.RequestStopAsync(job.Id, StopMode.Graceful));
        await _store.ReleaseAsync(b.Claim);
        Assert.Equal(JobStatus.Cancelled, (await _store.TryFinishAsync(job.Id))!.Status);
        await _store.EnqueueAsync(job.Id);
        Assert.Equal(2, await RecordClaimableChunksAsync(job.Id));
        Assert.Equal("c", Assert.Single(await _store.AdvanceStagesAsync(job.Id)).Stage);
        Assert.Equal(1, await RecordClaimableChunksAsync(job.Id));
        Assert.Equal(JobStatus.Completed, (await _store.TryFinishAsync(job.Id))!.Status);
    }

    [Fact]
    public async Task IdleWorker_MovesOnAJobWhoseLastWorkerDiedBeforeMovingItOn_OpeningItsNextStage_AndEndsIt()
    {
        var staged = await QueueStagedAsync(("a", 20, [], 10), ("b", 10, ["a"], 10));
        var plain = await QueueAsync(20, new JobSettings { ChunkSize = 10 });

        // Everything claimable recorded, nothing moved on: the plain job has no chunks left but has not
        // ended (no worker holds it, so it reads Queued); the staged job's b waits to be opened.
        Assert.Equal(2, await RecordClaimableChunksAsync(staged.Id));
        Assert.Equal(2, await RecordClaimableChunksAsync(plain.Id));
        Assert.Equal((JobStatus.Queued, 20L), ((await _store.GetJobAsync(plain.Id))!.Status, (await _store.GetJobAsync(plain.Id))!.Counts.Succeeded));
        var stalled = await _store.StalledJobsAsync();
        Assert.Contains(staged.Id, stalled);
        Assert.Contains(plain.Id, stalled);

        var ranB = new ConcurrentBag<int>();
        var worker = new JobWorker(_store, _ => StagedHandler((stage, n, _) =>
        {
            ranB.Add(n);
            return Task.FromResult<string?>($"{stage}:{n}");
        }), new WorkerOptions { Name = "idle", Kinds = ["test"], ExitWhenIdle = true, PollInterval = TimeSpan.FromMilliseconds(50) });
        await worker.RunAsync(CancellationToken.None).WaitAsync(Bound);

        Assert.Equal((JobStatus.Completed, 20L), ((await _store.GetJobAsync(plain.Id))!.Status, (await _store.GetJobAsync(plain.Id))!.Counts.Succeeded));
        var ended = (await _store.GetJobAsync(staged.Id))!;
        Assert.Equal((JobStatus.Completed, 30L), (ended.Status, ended.Counts.Succeeded));
        Assert.Equal(Enumerable.Range(20, 10), ranB.Order());
        Assert.Empty(await _store.StalledJobsAsync());
    }
}
