using System.Collections.Concurrent;
using System.Text.Json;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using BatchOps.Engine.Tests.Support;
using BatchOps.Engine.Workers;
using BatchOps.Postgres;
using BatchOps.Testing;

namespace BatchOps.Engine.Tests.Workers;

[Collection(PostgresCollection.Name)]
public partial class JobWorkerTests(PostgresServer postgres) : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private PostgresJobStore _store = null!;
    private string _database = string.Empty;

    public async Task InitializeAsync() => _store = PostgresJobStore.Open(_database = await postgres.CreateDatabaseAsync());

    public Task DisposeAsync()
    {
        _store.Dispose();
        return Task.CompletedTask;
    }

    private async Task<JobRecord> QueueAsync(int count, JobSettings settings)
    {
        var runner = new JobRunner(_store);
        var job = await runner.CreateAsync(
            new JobDefinition { Name = "fleet", OperationKind = "test", Operation = "{}", Settings = settings },
            Enumerable.Range(0, count).Select(i => JsonSerializer.SerializeToElement(i)), JsonPayloadCodec.Instance, "text");
        await _store.EnqueueAsync(job.Id);
        return job;
    }

    private static QueuedJobHandler Handler(Func<int, CancellationToken, Task<string?>> work) => QueuedJobHandler.Create(new JobRunRequest<JsonElement, string?>
    {
        Operation = BatchOperation<JsonElement, string?>.PerItem((item, ct) => new ValueTask<string?>(work(item.Value.GetInt32(), ct))),
        InputCodec = JsonPayloadCodec.Instance,
        OutputCodec = TextPayloadCodec.Instance,
    });

    private JobWorker Worker(QueuedJobHandler handler, string name) =>
        new(_store, _ => handler, new WorkerOptions { Name = name, Kinds = ["test"], Lease = TimeSpan.FromSeconds(5), PollInterval = TimeSpan.FromMilliseconds(50) });

    /// <summary>Runs workers until the job ends (bounded), then stops them; returns the ended job.</summary>
    private async Task<JobRecord> RunUntilEndedAsync(string jobId, params JobWorker[] workers)
    {
        using var stop = new CancellationTokenSource();
        var running = workers.Select(w => w.RunAsync(stop.Token)).ToArray();
        var deadline = DateTime.UtcNow + Bound;
        JobRecord job;
        while (true)
        {
            job = (await _store.GetJobAsync(jobId))!;
            if (job.Status is not (JobStatus.Queued or JobStatus.Running) || DateTime.UtcNow > deadline)
            {
                break;
            }

            await Task.Delay(50);
        }

        await stop.CancelAsync();
        await Task.WhenAll(running).WaitAsync(Bound);
        Assert.True(job.Status is not (JobStatus.Queued or JobStatus.Running), $"The job did not end within {Bound}: {job.Status}, {job.Counts.Succeeded} succeeded.");
        return job;
    }

    [Fact]
    public async Task TwoWorkers_ShareTheChunks_AndEveryItemRunsAndIsRecordedOnce()
    {
        var job = await QueueAsync(500, new JobSettings { ChunkSize = 20, ThrottleLimit = 4 });
        Assert.Equal(JobStatus.Queued, (await _store.GetJobAsync(job.Id))!.Status);
        var runs = new ConcurrentDictionary<int, int>();
        var byWorker = new ConcurrentDictionary<string, int>();
        QueuedJobHandler HandlerOf(string name) => Handler(async (n, ct) =>
        {
            runs.AddOrUpdate(n, 1, (_, c) => c + 1);
            byWorker.AddOrUpdate(name, 1, (_, c) => c + 1);
            await Task.Delay(2, ct);
            return $"done {n}";
        });

        var ended = await RunUntilEndedAsync(job.Id, Worker(HandlerOf("a"), "a"), Worker(HandlerOf("b"), "b"));

        Assert.Equal(JobStatus.Completed, ended.Status);
        Assert.Equal(500, ended.Counts.Succeeded);
        Assert.Equal(Enumerable.Range(0, 500), runs.Keys.Order());
        Assert.All(runs.Values, count => Assert.Equal(1, count));
        Assert.Equal(2, byWorker.Count);
        var item = Assert.Single(await _store.GetItemsAsync(job.Id, new ItemQuery { Indexes = [321] }).ToListAsync());
        Assert.Equal("done 321", item.Output);
    }

    [Fact]
    public async Task ClaimNext_TakesOnlyThatJobsChunks_LowestFirst_WithTheirUnfinishedItems_AndNoneOnceItWasAskedToStop()
    {
        var first = await QueueAsync(30, new JobSettings { ChunkSize = 10 });
        var second = await QueueAsync(30, new JobSettings { ChunkSize = 10 });
        await _store.CheckpointAsync(second.Id, Enumerable.Range(13, 4).Select(i => new ItemOutcome(i, ItemStatus.Succeeded, 1, null, null, null, DateTimeOffset.UnixEpoch, TimeSpan.Zero)).ToList());
        var me = new WorkerIdentity("me", "host", 1);

        Assert.Null(await _store.ClaimNextAsync(me, second.Id, ["other"], TimeSpan.FromMinutes(1)));
        var a = await _store.ClaimNextAsync(me, second.Id, ["test"], TimeSpan.FromMinutes(1));
        var b = await _store.ClaimNextAsync(me, second.Id, ["test"], TimeSpan.FromMinutes(1));

        Assert.Equal((second.Id, 0L, 9L), (a!.Claim.JobId, a.Claim.FirstIndex, a.Claim.LastIndex));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => ((long)i, $"{i}")), a.Items.Select(i => (i.Index, i.Input)));
        Assert.Equal((second.Id, 10L, 19L), (b!.Claim.JobId, b.Claim.FirstIndex, b.Claim.LastIndex));
        Assert.Equal([10L, 11, 12, 17, 18, 19], b.Items.Select(i => i.Index));
        Assert.Equal(JobStatus.Running, (await _store.GetJobAsync(second.Id))!.Status);
        Assert.Equal(JobStatus.Queued, (await _store.GetJobAsync(first.Id))!.Status);
        Assert.True(await _store.RequestStopAsync(second.Id, StopMode.Graceful));
        Assert.Null(await _store.ClaimNextAsync(me, second.Id, ["test"], TimeSpan.FromMinutes(1)));
        Assert.Equal(first.Id, (await _store.ClaimNextAsync(me, first.Id, ["test"], TimeSpan.FromMinutes(1)))!.Claim.JobId);
    }

    [Fact]
    public async Task FastChunks_AreClaimedAhead_WhileOneRuns()
    {
        // Chunk 0 runs at once; chunk 1 holds until the worker has claimed chunk 2 ahead of it.
        var job = await QueueAsync(30, new JobSettings { ChunkSize = 10, ThrottleLimit = 2 });
        var claimedAhead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var worker = Worker(Handler(async (n, ct) =>
        {
            if (n == 10)
            {
                await claimedAhead.Task.WaitAsync(Bound, ct);
            }

            return null;
        }), "ahead");
        var claims = new ConcurrentQueue<string>();
        worker.Reported += e =>
        {
            if (e.Kind == WorkerEventKind.Claimed)
            {
                claims.Enqueue(e.Message);
                if (e.Message.StartsWith("items 20-29", StringComparison.Ordinal))
                {
                    claimedAhead.TrySetResult();
                }
            }
        };

        var ended = await RunUntilEndedAsync(job.Id, worker);

        Assert.Equal((JobStatus.Completed, 30L), (ended.Status, ended.Counts.Succeeded));
        Assert.Equal(["items 0-9", "items 10-19", "items 20-29"], claims.Select(c => c[..c.IndexOf(" of ", StringComparison.Ordinal)]));
    }

    [Fact]
    public async Task TheNextChunk_RunsBesideTheLastItemsOfTheOneBefore_NeverMoreThanThrottleLimitAtOnce()
    {
        // The first item of each chunk is slow: the chunk's other items are done long before it. The next
        // chunk's items run in the slots they freed, while it still runs; the worker never runs more than
        // ThrottleLimit items of the job at once.
        var job = await QueueAsync(60, new JobSettings { ChunkSize = 10, ThrottleLimit = 3 });
        var running = 0;
        var most = 0;
        var started = new ConcurrentDictionary<int, DateTime>();
        var ended = new ConcurrentDictionary<int, DateTime>();
        var worker = Worker(Handler(async (n, ct) =>
        {
            started[n] = DateTime.UtcNow;
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref most, now);
            await Task.Delay(n % 10 == 0 ? 400 : 5, ct);
            Interlocked.Decrement(ref running);
            ended[n] = DateTime.UtcNow;
            return null;
        }), "overlap");

        var job2 = await RunUntilEndedAsync(job.Id, worker);

        Assert.Equal((JobStatus.Completed, 60L), (job2.Status, job2.Counts.Succeeded));
        Assert.Equal(3, most);
        for (var chunk = 0; chunk < 50; chunk += 10)
        {
            Assert.True(started[chunk + 11] < ended[chunk], $"item {chunk + 11} started at {started[chunk + 11]:HH:mm:ss.fff}, after item {chunk} of the chunk before ended ({ended[chunk]:HH:mm:ss.fff})");
        }
    }

    [Fact]
    public async Task TheWorkerThatEndsAJob_WritesItsLastLine_WithTheJobsCounts()
    {
        var job = await QueueAsync(30, new JobSettings { ChunkSize = 10, ThrottleLimit = 2 });
        using var logs = new TempFolder();
        var worker = new JobWorker(_store, _ => Handler((n, _) => Task.FromResult<string?>(n == 7 ? throw new InvalidOperationException("bad 7") : null)),
            new WorkerOptions { Name = "logger", Kinds = ["test"], PollInterval = TimeSpan.FromMilliseconds(50), LogFolder = logs.Path });

        var ended = await RunUntilEndedAsync(job.Id, worker);

        Assert.Equal(JobStatus.CompletedWithErrors, ended.Status);
        var last = File.ReadLines(logs.File($"{job.Id}.log")).Last();
        Assert.Matches(@"\[FAILURE\] CompletedWithErrors: 29 succeeded, 1 failed, 0 skipped, 0 cancelled, 0 pending of 30; run by workers in \d\d:\d\d:\d\d\.\d$", last);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        for (var seen = Volatile.Read(ref target); value > seen; seen = Volatile.Read(ref target))
        {
            if (Interlocked.CompareExchange(ref target, value, seen) == seen)
            {
                return;
            }
        }
    }

    [Fact]
    public async Task LateWorker_LosesItsClaim_AndItsResultsAreDiscarded()
    {
        var job = await QueueAsync(5, new JobSettings { ChunkSize = 10 });
        var late = await _store.ClaimAsync(new WorkerIdentity("late", "h", 1), ["test"], [], TimeSpan.FromSeconds(1));
        Assert.NotNull(late);
        Assert.Null(await _store.ClaimAsync(new WorkerIdentity("other", "h", 2), ["test"], [], TimeSpan.FromSeconds(30)));

        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var taken = await _store.ClaimAsync(new WorkerIdentity("other", "h", 2), ["test"], [], TimeSpan.FromSeconds(30));
        Assert.NotNull(taken);
        Assert.Equal((late!.FirstIndex, 2), (taken!.FirstIndex, taken.Claims));
        Assert.False((await _store.RenewAsync(late, TimeSpan.FromSeconds(30))).Held);

        ItemOutcome[] Outcomes(string output) => [.. Enumerable.Range(0, 5).Select(i => new ItemOutcome(i, ItemStatus.Succeeded, 1, output, null, null, DateTimeOffset.UtcNow, TimeSpan.Zero))];
        Assert.True(await _store.CompleteAsync(taken, Outcomes("on time"), default));
        Assert.False(await _store.CompleteAsync(late, Outcomes("late"), default));

        var items = await _store.GetItemsAsync(job.Id, ItemQuery.All).ToListAsync();
        Assert.All(items, i => Assert.Equal("on time", i.Output));
        Assert.Equal(JobStatus.Completed, (await _store.TryFinishAsync(job.Id))!.Status);
    }

    [Fact]
    public async Task StopOnError_StopsEveryWorker_AndTheJobEndsFailedWithTheReason()
    {
        var job = await QueueAsync(400, new JobSettings { ChunkSize = 10, ThrottleLimit = 2, StopOnError = true });
        var handler = Handler(async (n, ct) =>
        {
            await Task.Delay(5, ct);
            return n == 25 ? throw new InvalidOperationException("bad item") : "ok";
        });

        var ended = await RunUntilEndedAsync(job.Id, Worker(handler, "a"), Worker(handler, "b"), Worker(handler, "c"));

        Assert.Equal(JobStatus.Failed, ended.Status);
        Assert.Contains("StopOnError", ended.Message, StringComparison.Ordinal);
        Assert.Equal(1, ended.Counts.Failed);
        Assert.True(ended.Counts.Unfinished > 200, $"{ended.Counts.Unfinished} unfinished: the stop did not reach the other workers.");
    }

    [Fact]
    public async Task Cancel_FromAnotherStoreInstance_StopsTheWorkers_AndQueueingAgainRunsTheRest()
    {
        var job = await QueueAsync(300, new JobSettings { ChunkSize = 10, ThrottleLimit = 2 });
        var handler = Handler(async (n, ct) =>
        {
            await Task.Delay(20, ct);
            return "ok";
        });
        using var stop = new CancellationTokenSource();
        var workers = new[] { Worker(handler, "a"), Worker(handler, "b") }.Select(w => w.RunAsync(stop.Token)).ToArray();
        while ((await _store.GetJobAsync(job.Id))!.Counts.Succeeded < 40)
        {
            await Task.Delay(20);
        }

        using (var other = PostgresJobStore.Open(_database))
        {
            Assert.Equal(StopOutcome.Requested, await JobControl.StopAsync(other, (await other.GetJobAsync(job.Id))!, StopMode.Graceful));
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        JobRecord stopped;
        while ((stopped = (await _store.GetJobAsync(job.Id))!).Status is JobStatus.Running or JobStatus.Queued && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Equal(JobStatus.Cancelled, stopped.Status);
        Assert.True(stopped.Counts.Unfinished > 0);

        await _store.EnqueueAsync(job.Id);
        JobRecord ended;
        deadline = DateTime.UtcNow + Bound;
        while ((ended = (await _store.GetJobAsync(job.Id))!).Status is JobStatus.Running or JobStatus.Queued && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        await stop.CancelAsync();
        await Task.WhenAll(workers).WaitAsync(Bound);
        Assert.Equal((JobStatus.Completed, 300L), (ended.Status, ended.Counts.Succeeded));
    }

    [Fact]
    public async Task Enqueue_JobBeingRolledBack_IsRefusedWithTheWayOut_AndSqliteStoreCannotFeedWorkers()
    {
        var runner = new JobRunner(_store);
        var rolling = await runner.CreateAsync(
            new JobDefinition
            {
                Name = "rolling", OperationKind = "test", Operation = "{}", Settings = new JobSettings { OnFailure = FailureAction.Rollback },
                Undo = new UndoDefinition { OperationKind = "test", Operation = "{}" },
            },
            [JsonSerializer.SerializeToElement(1), JsonSerializer.SerializeToElement(2)], JsonPayloadCodec.Instance, "text");
        await _store.BeginRollbackAsync(rolling.Id);

        var error = await Assert.ThrowsAsync<StoreException>(() => _store.EnqueueAsync(rolling.Id));
        Assert.Contains("is rolling back: resume it", error.Message, StringComparison.Ordinal);
        Assert.Equal(JobStatus.Pending, (await _store.GetJobAsync(rolling.Id))!.Status);

        using var folder = new TempFolder();
        using var sqlite = SqliteJobStore.Open(folder.Path);
        var refused = Assert.Throws<StoreException>(() => new JobWorker(sqlite, _ => Handler((_, _) => Task.FromResult<string?>(null)), new WorkerOptions { Kinds = ["test"] }));
        Assert.Contains("PostgreSQL store", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RateSlots_FromSeveralWorkers_AreConsecutive_NoneSkippedNoneShared()
    {
        // One start an hour: each slot's distance from now, in hours, is its place in the job's schedule.
        var job = await QueueAsync(1, new JobSettings());
        var hour = TimeSpan.FromHours(1);
        var first = await _store.TakeRateSlotsAsync(job.Id, hour, 3);
        var next = await _store.TakeRateSlotsAsync(job.Id, hour, 2);
        Assert.InRange(first, -TimeSpan.FromSeconds(1), TimeSpan.Zero);
        Assert.InRange(next, (3 * hour) - TimeSpan.FromMinutes(1), 3 * hour);

        // Two workers' gates, 30 starts waiting in each: while each gate's first request waits on the job's
        // rate row (held here), the other 29 queue, and the gate's next request takes them all. Together the
        // gates take the next 60 slots, each exactly once.
        var gates = new[] { new SharedRateGate(_store, job.Id, 1 / 3600.0, TimeProvider.System), new SharedRateGate(_store, job.Id, 1 / 3600.0, TimeProvider.System) };
        await using var holder = new Npgsql.NpgsqlConnection(_database);
        await holder.OpenAsync();
        var hold = await holder.BeginTransactionAsync();
        await using (var take = new Npgsql.NpgsqlCommand($"SELECT 1 FROM batchops.job_rates WHERE job_id = '{job.Id}' FOR UPDATE", holder, hold))
        {
            Assert.Equal(1, await take.ExecuteScalarAsync());
        }

        var starts = gates.SelectMany(g => Enumerable.Range(0, 30).Select(_ => g.TakeSlotAsync(CancellationToken.None))).ToList();
        await hold.RollbackAsync();
        var waits = await Task.WhenAll(starts).WaitAsync(Bound);
        var places = waits.Select(w => (int)Math.Round(w / hour)).Order().ToList();
        Assert.Equal(Enumerable.Range(5, 60), places);
        Assert.All(gates, g => Assert.Equal(2, g.Requests));
    }
}
