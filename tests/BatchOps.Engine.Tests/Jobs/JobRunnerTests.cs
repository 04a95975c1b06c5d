using System.Text.Json;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using BatchOps.Engine.Tests.Support;
using BatchOps.Testing;

namespace BatchOps.Engine.Tests.Jobs;

[Collection(PostgresCollection.Name)]
public class JobRunnerTests(PostgresServer postgres) : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    public static TheoryData<string> Stores => TestStores.Kinds;

    private Task<IJobStore> CreateStore(string kind) => TestStores.CreateAsync(kind, _folder.Path, postgres);

    private JobRunner CreateSut(IJobStore store) => new(store, StoreLocation.LogFolder(_folder.Path)) { HeartbeatInterval = TimeSpan.FromMilliseconds(50) };

    private static JobDefinition Definition(string name = "patch", JobSettings? settings = null) => new()
    {
        Name = name,
        OperationKind = "test",
        Operation = "{}",
        Settings = settings ?? new JobSettings { ChunkSize = 10, ThrottleLimit = 4 },
    };

    private static IEnumerable<JsonElement> Numbers(int count) =>
        Enumerable.Range(0, count).Select(i => JsonSerializer.SerializeToElement(new { n = i, host = $"web{i:D2}" }));

    private static JobRunRequest<JsonElement, string?> Request(Func<int, ValueTask<string?>> operation, RunKind kind = RunKind.Resume, BatchStopSource? stop = null) => new()
    {
        Operation = BatchOperation<JsonElement, string?>.PerItem((item, _) => operation(item.Value.GetProperty("n").GetInt32())),
        InputCodec = JsonPayloadCodec.Instance,
        OutputCodec = TextPayloadCodec.Instance,
        Kind = kind,
        Stop = stop,
    };

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task RunAsync_NewJob_RecordsEveryOutcomeAndCompletes(string kind)
    {
        using var store = await CreateStore(kind);
        var runner = CreateSut(store);
        var job = await runner.CreateAsync(Definition(), Numbers(95), JsonPayloadCodec.Instance, "text", e => e.GetProperty("host").GetString());

        var result = await runner.RunAsync(job.Id, Request(n => ValueTask.FromResult<string?>($"done {n}")));

        Assert.Equal(JobStatus.Completed, result.Job.Status);
        Assert.Equal(95, result.Job.Counts.Succeeded);
        Assert.Equal(1, result.Job.RunCount);
        Assert.Null(result.Job.Lease);
        var item = Assert.Single(await store.GetItemsAsync(job.Id, new ItemQuery { Indexes = [42] }).ToListAsync());
        Assert.Equal(("web42", "done 42", 1), (item.Key, item.Output, item.Attempts));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task RunAsync_AfterCancel_ResumeRunsOnlyWhatHadNotSucceeded(string kind)
    {
        using var store = await CreateStore(kind);
        var runner = CreateSut(store);
        // One worker, so nothing else runs while item 25 cancels the run.
        var job = await runner.CreateAsync(Definition(settings: new JobSettings { ChunkSize = 5, ThrottleLimit = 1 }), Numbers(60), JsonPayloadCodec.Instance, "text");
        var runs = new int[60];
        using var cts = new CancellationTokenSource();

        var first = await runner.RunAsync(job.Id, Request(n =>
        {
            Interlocked.Increment(ref runs[n]);
            if (n == 25)
            {
                cts.Cancel();
            }

            return ValueTask.FromResult<string?>("ok");
        }), cts.Token);

        Assert.Equal(JobStatus.Cancelled, first.Job.Status);
        var succeededBefore = (await store.GetItemsAsync(job.Id, new ItemQuery { Statuses = [ItemStatus.Succeeded] }).ToListAsync()).Select(i => (int)i.Index).ToHashSet();
        Assert.Equal(26, succeededBefore.Count);

        var second = await runner.RunAsync(job.Id, Request(n =>
        {
            Assert.DoesNotContain(n, succeededBefore);
            Interlocked.Increment(ref runs[n]);
            return ValueTask.FromResult<string?>("ok");
        }));

        Assert.Equal(JobStatus.Completed, second.Job.Status);
        Assert.Equal(60, second.Job.Counts.Succeeded);
        Assert.Equal(2, second.Job.RunCount);
        Assert.All(runs, count => Assert.InRange(count, 1, 2));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task RunAsync_RetryFailed_RunsOnlyFailedItemsAndKeepsTheirHistory(string kind)
    {
        using var store = await CreateStore(kind);
        var runner = CreateSut(store);
        var job = await runner.CreateAsync(Definition(), Numbers(30), JsonPayloadCodec.Instance, "text");
        var first = await runner.RunAsync(job.Id, Request(n => n % 10 == 3 ? throw new InvalidOperationException($"bad {n}") : ValueTask.FromResult<string?>("ok")));
        Assert.Equal(JobStatus.CompletedWithErrors, first.Job.Status);
        Assert.Equal(3, first.Job.Counts.Failed);

        var retried = new List<int>();
        var second = await runner.RunAsync(job.Id, Request(n =>
        {
            lock (retried)
            {
                retried.Add(n);
            }

            return ValueTask.FromResult<string?>("fixed");
        }, RunKind.RetryFailed));

        Assert.Equal([3, 13, 23], retried.Order());
        Assert.Equal(JobStatus.Completed, second.Job.Status);
        Assert.Equal(3, second.Run.Total);
        var history = Assert.Single(await store.GetItemHistoryAsync(job.Id, 13));
        Assert.Equal("bad 13", history.Error!.Message);
    }

    [Fact]
    public async Task RunAsync_RetryChosenItems_LeavesOtherFailuresAlone()
    {
        using var store = await CreateStore("sqlite");
        var runner = CreateSut(store);
        var job = await runner.CreateAsync(Definition(), Numbers(10), JsonPayloadCodec.Instance, "text");
        await runner.RunAsync(job.Id, Request(n => n < 3 ? throw new InvalidOperationException("x") : ValueTask.FromResult<string?>("ok")));

        var result = await runner.RunAsync(job.Id, Request(_ => ValueTask.FromResult<string?>("ok"), RunKind.RetryFailed) with { Indexes = [1] });

        Assert.Equal((8L, 2L), (result.Job.Counts.Succeeded, result.Job.Counts.Failed));
        Assert.Equal(JobStatus.CompletedWithErrors, result.Job.Status);
    }

    [Fact]
    public async Task RunAsync_StopRequestedThroughTheStore_StopsTheOwner()
    {
        using var store = await CreateStore("sqlite");
        using var otherSession = SqliteJobStore.Open(_folder.Path);
        var runner = CreateSut(store);
        var job = await runner.CreateAsync(Definition(settings: new JobSettings { ChunkSize = 5, ThrottleLimit = 2 }), Numbers(200), JsonPayloadCodec.Instance, "text");
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var run = runner.RunAsync(job.Id, Request(async n =>
        {
            started.TrySetResult();
            await Task.Delay(10);
            return "ok";
        }));
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(await otherSession.RequestStopAsync(job.Id, StopMode.Graceful));
        var result = await run.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(JobStatus.Cancelled, result.Job.Status);
        Assert.True(result.Job.Counts.Succeeded < 200);
        Assert.Equal(0, result.Job.Counts.Failed);
    }

    [Fact]
    public async Task RunAsync_JobOwnedByLiveProcess_ThrowsBusyWithoutTouchingIt()
    {
        using var store = await CreateStore("sqlite");
        var runner = CreateSut(store);
        var job = await runner.CreateAsync(Definition(), Numbers(3), JsonPayloadCodec.Instance, "text");
        using var init = System.Diagnostics.Process.GetProcessById(1);
        var owner = new JobLease("elsewhere-" + Environment.MachineName, 1, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow);
        Assert.True(await store.TryAcquireLeaseAsync(job.Id, owner));

        var error = await Assert.ThrowsAsync<JobBusyException>(() => runner.RunAsync(job.Id, Request(_ => ValueTask.FromResult<string?>("ok"))));

        Assert.Contains("already running", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, (await store.GetJobAsync(job.Id))!.Counts.Pending);
    }

    [Fact]
    public async Task RunAsync_InvalidStoredSettings_RejectedBeforeAnyItemRuns()
    {
        using var store = await CreateStore("sqlite");
        var runner = CreateSut(store);

        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() =>
            runner.CreateAsync(Definition(settings: new JobSettings { ThrottleLimit = 0 }), Numbers(3), JsonPayloadCodec.Instance, "text"));

        Assert.Equal("ThrottleLimit", error.ParamName);
        Assert.Empty(await store.FindJobsAsync(new JobQuery()));
    }

    [Fact]
    public async Task RunNewAsync_StreamedInput_RecordsItemsChunkByChunk()
    {
        using var store = await CreateStore("sqlite");
        var runner = CreateSut(store);

        var result = await runner.RunNewAsync(Definition(), ToAsync(Numbers(23)), Request(n => n == 7 ? throw new IOException("gone") : ValueTask.FromResult<string?>("ok")));

        Assert.Equal(23, result.Job.Counts.Total);
        Assert.Equal(JobStatus.CompletedWithErrors, result.Job.Status);
        var failed = Assert.Single(await store.GetItemsAsync(result.Job.Id, new ItemQuery { Statuses = [ItemStatus.Failed] }).ToListAsync());
        Assert.Equal(7, JsonDocument.Parse(failed.Input).RootElement.GetProperty("n").GetInt32());
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("memory")]
    [InlineData("postgresql")]
    public async Task RunNewAsync_StoppedByErrorPolicy_RecordsTheRestOfTheStreamSkippedAndResumeRunsIt(string kind)
    {
        using var store = await CreateStore(kind);
        var runner = CreateSut(store);
        var seen = new RecordingObserver<JsonElement, string?>();
        var request = Request(n => n == 3 ? throw new IOException("three") : ValueTask.FromResult<string?>("ok")) with { Observer = seen };

        var result = await runner.RunNewAsync(Definition(settings: new JobSettings { ThrottleLimit = 1, ChunkSize = 5, StopOnError = true }), ToAsync(Numbers(500)), request);

        Assert.Equal(JobStatus.Failed, result.Job.Status);
        Assert.Equal(500, result.Job.Counts.Total);
        Assert.Equal((3L, 1L), (result.Job.Counts.Succeeded, result.Job.Counts.Failed));
        Assert.Equal(496, result.Job.Counts.Skipped);
        Assert.Equal(Enumerable.Range(0, 500).Select(i => (long)i), seen.Results.Select(r => r.Index).Order());
        var resumed = await runner.RunAsync(result.Job.Id, Request(_ => ValueTask.FromResult<string?>("ok")));
        Assert.Equal(496, resumed.Run.Succeeded);
        var last = await store.GetItemsAsync(result.Job.Id, new ItemQuery { Indexes = [499] }).SingleAsync();
        Assert.Equal(499, JsonDocument.Parse(last.Input).RootElement.GetProperty("n").GetInt32());
    }

    [Fact]
    public async Task RunAsync_WritesLogWithDigestFailuresAndFinalLine()
    {
        using var store = await CreateStore("sqlite");
        var runner = CreateSut(store);
        var job = await runner.CreateAsync(Definition("log-me"), Numbers(12), JsonPayloadCodec.Instance, "text", e => e.GetProperty("host").GetString());

        await runner.RunAsync(job.Id, Request(n => n == 4 ? throw new InvalidOperationException("disk\nfull") : ValueTask.FromResult<string?>("ok")));
        await runner.RunAsync(job.Id, Request(_ => ValueTask.FromResult<string?>("ok"), RunKind.RetryFailed));

        var lines = File.ReadAllLines(Path.Combine(StoreLocation.LogFolder(_folder.Path), $"{job.Id}.log"));
        Assert.Contains(lines, l => l.EndsWith("[INFO] items: 12 (web00, web01, web02, ... and 9 more)", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("web05", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("[START] run 1 of job 'log-me'", StringComparison.Ordinal) && l.Contains("throttleLimit=4", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("[FAIL] item 4 (web04): System.InvalidOperationException: disk full", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("[FAILURE] CompletedWithErrors: 11 succeeded, 1 failed", StringComparison.Ordinal));
        Assert.Contains("[SUCCESS] Completed: 12 succeeded, 0 failed", lines[^1], StringComparison.Ordinal);
    }

    private static async IAsyncEnumerable<T> ToAsync<T>(IEnumerable<T> values)
    {
        foreach (var value in values)
        {
            await Task.Yield();
            yield return value;
        }
    }
}
