using System.Collections.Concurrent;
using System.Text.Json;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using BatchOps.Engine.Tests.Support;
using BatchOps.Testing;

namespace BatchOps.Engine.Tests.Jobs;

[Collection(PostgresCollection.Name)]
public class StagesAndRollbackTests(PostgresServer postgres) : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    public static TheoryData<string> Stores => TestStores.Kinds;

    private Task<IJobStore> CreateStore(string kind) => TestStores.CreateAsync(kind, _folder.Path, postgres);

    private JobRunner CreateSut(IJobStore store) => new(store, StoreLocation.LogFolder(_folder.Path)) { HeartbeatInterval = TimeSpan.FromMilliseconds(50) };

    private static JobStage Stage(string name, long first, long count, string[]? dependsOn = null, bool undo = true, JobSettings? settings = null) => new()
    {
        Name = name,
        DependsOn = dependsOn ?? [],
        FirstIndex = first,
        Count = count,
        OperationKind = "test",
        Operation = name,
        Settings = settings ?? new JobSettings { ChunkSize = 2, ThrottleLimit = 1 },
        Undo = undo ? new UndoDefinition { OperationKind = "test", Operation = "undo " + name } : null,
    };

    private static JobDefinition Staged(FailureAction onFailure, params JobStage[] stages) => new()
    {
        Name = "provision",
        OperationKind = "stages",
        Operation = "{}",
        Settings = new JobSettings { OnFailure = onFailure },
        Stages = stages,
    };

    /// <summary>Items named "stage:n" (the stage and a number), one list after another in stage order.</summary>
    private static IEnumerable<JsonElement> Items(params (string Stage, int Count)[] stages) =>
        stages.SelectMany(s => Enumerable.Range(0, s.Count).Select(i => JsonSerializer.SerializeToElement($"{s.Stage}:{i}")));

    private static JobRunRequest<JsonElement, string?> Request(
        Func<string, ValueTask<string?>> forward,
        Func<string, string?, ValueTask<string?>>? undo = null,
        RunKind kind = RunKind.Resume,
        BatchStopSource? stop = null) => new()
    {
        StageOperation = stage => BatchOperation<JsonElement, string?>.PerItem((item, _) =>
        {
            var name = item.Value.GetString()!;
            Assert.StartsWith(stage.Name + ":", name, StringComparison.Ordinal);
            return forward(name);
        }),
        Undo = stage => BatchOperation<Compensation<JsonElement, string?>, string?>.PerItem((item, _) =>
        {
            Assert.Equal(stage.Name, item.Value.Stage);
            return (undo ?? ((_, _) => ValueTask.FromResult<string?>(null)))(item.Value.Input.GetString()!, item.Value.Output);
        }),
        InputCodec = JsonPayloadCodec.Instance,
        OutputCodec = TextPayloadCodec.Instance,
        Kind = kind,
        Stop = stop,
    };

    [Fact]
    public void StageOrder_PutsDependenciesFirstAndNamesACycle()
    {
        var order = StageOrder.Sort([Stage("users", 0, 1, ["networks"]), Stage("networks", 1, 1), Stage("audit", 2, 1, ["users", "networks"])]);
        Assert.Equal(["networks", "users", "audit"], order.Select(s => s.Name));

        var cycle = Assert.Throws<ArgumentException>(() => StageOrder.Sort([Stage("networks", 0, 1, ["users"]), Stage("users", 1, 1, ["networks"])]));
        Assert.Contains("networks -> users -> networks", cycle.Message, StringComparison.Ordinal);

        var unknown = Assert.Throws<ArgumentException>(() => StageOrder.Sort([Stage("users", 0, 1, ["netwroks"])]));
        Assert.Contains("'netwroks', which is not a stage", unknown.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task CreateAsync_CycleOrRollbackWithoutUndo_CreatesNothing(string kind)
    {
        using var store = await CreateStore(kind);
        var runner = CreateSut(store);

        var cycle = await Assert.ThrowsAsync<ArgumentException>(() => runner.CreateAsync(
            Staged(FailureAction.Continue, Stage("a", 0, 1, ["b"]), Stage("b", 1, 1, ["a"])), Items(("a", 1), ("b", 1)), JsonPayloadCodec.Instance, "text"));
        Assert.Contains("a -> b -> a", cycle.Message, StringComparison.Ordinal);

        var noUndo = await Assert.ThrowsAsync<ArgumentException>(() => runner.CreateAsync(
            Staged(FailureAction.Rollback, Stage("a", 0, 1, undo: false)), Items(("a", 1)), JsonPayloadCodec.Instance, "text"));
        Assert.Contains("needs an undo operation", noUndo.Message, StringComparison.Ordinal);

        Assert.Empty(await store.FindJobsAsync(new JobQuery()));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task RunAsync_Stages_RunInDependencyOrderAndIndependentOnesAtOnce(string kind)
    {
        using var store = await CreateStore(kind);
        var runner = CreateSut(store);

        // left and right depend on nothing; top waits for both. Each of left's and right's first items waits
        // until the other has started, so the run only ends if the two stages run at the same time.
        var job = await runner.CreateAsync(
            Staged(FailureAction.Continue, Stage("top", 0, 2, ["left", "right"]), Stage("left", 2, 3), Stage("right", 5, 3)),
            Items(("top", 2), ("left", 3), ("right", 3)), JsonPayloadCodec.Instance, "text");
        var leftStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var rightStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new ConcurrentQueue<string>();

        var result = await runner.RunAsync(job.Id, Request(async name =>
        {
            started.Enqueue(name);
            if (name == "left:0")
            {
                leftStarted.SetResult();
                await rightStarted.Task.WaitAsync(Bound);
            }
            else if (name == "right:0")
            {
                rightStarted.SetResult();
                await leftStarted.Task.WaitAsync(Bound);
            }

            return name;
        })).WaitAsync(Bound * 2);

        Assert.Equal(JobStatus.Completed, result.Job.Status);
        Assert.Equal(8, result.Job.Counts.Succeeded);
        var order = started.ToList();
        var firstTop = order.FindIndex(n => n.StartsWith("top:", StringComparison.Ordinal));
        Assert.Equal(6, firstTop);
        Assert.Equal(["top:0", "top:1"], order.Skip(6));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task RunAsync_DependencyWithFailure_SkipsTheDependentStageWithTheReason(string kind)
    {
        using var store = await CreateStore(kind);
        var runner = CreateSut(store);
        var job = await runner.CreateAsync(
            Staged(FailureAction.Continue, Stage("networks", 0, 3), Stage("users", 3, 4, ["networks"])),
            Items(("networks", 3), ("users", 4)), JsonPayloadCodec.Instance, "text");
        var ran = new ConcurrentQueue<string>();

        var result = await runner.RunAsync(job.Id, Request(name =>
        {
            ran.Enqueue(name);
            return name == "networks:1" ? throw new InvalidOperationException("quota") : ValueTask.FromResult<string?>(name);
        }));

        Assert.Equal(JobStatus.Failed, result.Job.Status);
        Assert.DoesNotContain(ran, n => n.StartsWith("users", StringComparison.Ordinal));
        var users = await store.GetItemsAsync(job.Id, ItemQuery.All.Within(job.Stage("users")!)).ToListAsync();
        Assert.Equal(4, users.Count);
        Assert.All(users, u =>
        {
            Assert.Equal(ItemStatus.Skipped, u.Status);
            Assert.Equal(JobRunner.DependencyNotCompleted, u.Error!.Type);
            Assert.Contains("'networks' did not complete", u.Error.Message, StringComparison.Ordinal);
        });

        // Retrying the failed item of networks completes it, and the skipped stage then runs.
        var retry = await runner.RunAsync(job.Id, Request(name => ValueTask.FromResult<string?>(name), kind: RunKind.RetryFailed) with { Stage = "networks" });
        Assert.Equal(JobStatus.Completed, retry.Job.Status);
        Assert.Equal(7, retry.Job.Counts.Succeeded);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Rollback_UndoesStagesInReverseDependencyOrderAndItemsNewestFirst(string kind)
    {
        using var store = await CreateStore(kind);
        var runner = CreateSut(store);
        var job = await runner.CreateAsync(
            Staged(FailureAction.Rollback, Stage("networks", 0, 3), Stage("users", 3, 4, ["networks"])),
            Items(("networks", 3), ("users", 4)), JsonPayloadCodec.Instance, "text");
        var undone = new ConcurrentQueue<string>();

        var result = await runner.RunAsync(job.Id, Request(
            name => name == "users:2" ? throw new InvalidOperationException("duplicate user") : ValueTask.FromResult<string?>("id-" + name),
            (name, output) =>
            {
                Assert.Equal("id-" + name, output);
                undone.Enqueue(name);
                return ValueTask.FromResult<string?>(null);
            }));

        // users:3 ran after users:2 failed (throttle 1, in order), so it is the newest success.
        Assert.Equal(["users:3", "users:1", "users:0", "networks:2", "networks:1", "networks:0"], undone);
        Assert.Equal(JobStatus.RolledBack, result.Job.Status);
        Assert.True(result.Job.RollingBack);
        Assert.Equal((6L, 1L, 0L), (result.Job.Counts.Compensated, result.Job.Counts.Failed, result.Job.Counts.Succeeded));
        var item = Assert.Single(await store.GetItemsAsync(job.Id, new ItemQuery { Indexes = [4] }).ToListAsync());
        Assert.Equal((ItemStatus.Compensated, "id-users:1"), (item.Status, item.Output));
        Assert.Equal(ItemStatus.Succeeded, Assert.Single(await store.GetItemHistoryAsync(job.Id, 4)).Status);

        var log = await File.ReadAllTextAsync(Path.Combine(StoreLocation.LogFolder(_folder.Path), job.Id + ".log"));
        Assert.Contains("[ROLLBACK] RolledBack: 6 compensated, 0 compensation(s) failed", log, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Rollback_FailedCompensationIsRecordedAndUndoAgainRetriesOnlyIt(string kind)
    {
        using var store = await CreateStore(kind);
        var runner = CreateSut(store);
        var job = await runner.CreateAsync(
            Staged(FailureAction.Rollback, Stage("vms", 0, 5)), Items(("vms", 5)), JsonPayloadCodec.Instance, "text");

        var result = await runner.RunAsync(job.Id, Request(
            name => name == "vms:4" ? throw new InvalidOperationException("no capacity") : ValueTask.FromResult<string?>(name),
            (name, _) => name == "vms:1" ? throw new InvalidOperationException("vm is locked") : ValueTask.FromResult<string?>(null)));

        Assert.Equal(JobStatus.RollbackFailed, result.Job.Status);
        Assert.Equal((3L, 1L, 1L), (result.Job.Counts.Compensated, result.Job.Counts.CompensationFailed, result.Job.Counts.Failed));
        var failed = Assert.Single(await store.GetItemsAsync(job.Id, new ItemQuery { Statuses = [ItemStatus.CompensationFailed] }).ToListAsync());
        Assert.Equal((1L, "vm is locked", "vms:1"), (failed.Index, failed.Error!.Message, failed.Output));
        var log = await File.ReadAllTextAsync(Path.Combine(StoreLocation.LogFolder(_folder.Path), job.Id + ".log"));
        Assert.Contains("[UNDO-FAIL] undo of item 1: System.InvalidOperationException: vm is locked", log, StringComparison.Ordinal);

        var undone = new ConcurrentQueue<string>();
        var again = await runner.UndoAsync(job.Id, Request(_ => throw new InvalidOperationException("must not run forward"), (name, _) =>
        {
            undone.Enqueue(name);
            return ValueTask.FromResult<string?>(null);
        }));

        Assert.Equal(["vms:1"], undone);
        Assert.Equal(JobStatus.RolledBack, again.Job.Status);
        Assert.Equal(4, again.Job.Counts.Compensated);
        await Assert.ThrowsAsync<StoreException>(() => runner.RunAsync(job.Id, Request(n => ValueTask.FromResult<string?>(n), kind: RunKind.RetryFailed)));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Rollback_StoppedMidway_ResumeCompensatesTheRestExactlyOnce(string kind)
    {
        using var store = await CreateStore(kind);
        var runner = CreateSut(store);
        // The undo runs one at a time (its own settings over the stage's), so the stop lands after exactly 5.
        var stage = Stage("vms", 0, 12, settings: new JobSettings { ChunkSize = 4, ThrottleLimit = 3 }) with
        {
            Undo = new UndoDefinition { OperationKind = "test", Operation = "undo", Settings = new JobSettings { ThrottleLimit = 1 } },
        };
        var job = await runner.CreateAsync(Staged(FailureAction.Rollback, stage), Items(("vms", 12)), JsonPayloadCodec.Instance, "text");
        var undoCounts = new ConcurrentDictionary<string, int>();
        using var stop = new BatchStopSource();

        var first = await runner.RunAsync(job.Id, Request(
            name => name == "vms:11" ? throw new InvalidOperationException("boom") : ValueTask.FromResult<string?>(name),
            (name, _) =>
            {
                if (undoCounts.Count >= 4)
                {
                    stop.Stop(StopMode.Graceful);
                }

                undoCounts.AddOrUpdate(name, 1, (_, n) => n + 1);
                return ValueTask.FromResult<string?>(null);
            },
            stop: stop));

        Assert.Equal(JobStatus.Cancelled, first.Job.Status);
        Assert.True(first.Job.RollingBack);
        Assert.Equal(5, first.Job.Counts.Compensated);

        // A resume goes on compensating; it never runs the items forward again.
        var second = await runner.RunAsync(job.Id, Request(_ => throw new InvalidOperationException("must not run forward"), (name, _) =>
        {
            undoCounts.AddOrUpdate(name, 1, (_, n) => n + 1);
            return ValueTask.FromResult<string?>(null);
        }));

        Assert.Equal(JobStatus.RolledBack, second.Job.Status);
        Assert.Equal(11, second.Job.Counts.Compensated);
        Assert.Equal(11, undoCounts.Count);
        Assert.All(undoCounts.Values, n => Assert.Equal(1, n));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task JobWithoutStages_RollsBackWithItsUndo(string kind)
    {
        using var store = await CreateStore(kind);
        var runner = CreateSut(store);
        var definition = new JobDefinition
        {
            Name = "single",
            OperationKind = "test",
            Operation = "{}",
            Settings = new JobSettings { ChunkSize = 3, ThrottleLimit = 1, StopOnError = true, OnFailure = FailureAction.Rollback },
            Undo = new UndoDefinition { OperationKind = "test", Operation = "undo" },
        };
        var job = await runner.CreateAsync(definition, Items(("x", 8)), JsonPayloadCodec.Instance, "text");
        var undone = new ConcurrentQueue<string>();
        var request = Request(name => name == "x:5" ? throw new InvalidOperationException("stop here") : ValueTask.FromResult<string?>(name), (name, _) =>
        {
            undone.Enqueue(name);
            return ValueTask.FromResult<string?>(null);
        }) with { StageOperation = null, Operation = BatchOperation<JsonElement, string?>.PerItem((item, _) => item.Value.GetString() == "x:5" ? throw new InvalidOperationException("stop here") : ValueTask.FromResult<string?>(item.Value.GetString())) };

        var result = await runner.RunAsync(job.Id, request);

        Assert.Equal(["x:4", "x:3", "x:2", "x:1", "x:0"], undone);
        Assert.Equal(JobStatus.RolledBack, result.Job.Status);
        Assert.Equal((5L, 1L, 2L), (result.Job.Counts.Compensated, result.Job.Counts.Failed, result.Job.Counts.Skipped));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task RunAsync_StoppedMidPlan_ResumeRunsOnlyWhatHadNotSucceeded(string kind)
    {
        using var store = await CreateStore(kind);
        var runner = CreateSut(store);
        var job = await runner.CreateAsync(
            Staged(FailureAction.Continue, Stage("a", 0, 4), Stage("b", 4, 6, ["a"]), Stage("c", 10, 2, ["b"])),
            Items(("a", 4), ("b", 6), ("c", 2)), JsonPayloadCodec.Instance, "text");
        var runs = new ConcurrentDictionary<string, int>();
        using var stop = new BatchStopSource();

        var first = await runner.RunAsync(job.Id, Request(name =>
        {
            runs.AddOrUpdate(name, 1, (_, n) => n + 1);
            if (name == "b:2")
            {
                stop.Stop(StopMode.Graceful);
            }

            return ValueTask.FromResult<string?>(name);
        }, stop: stop));

        Assert.Equal(JobStatus.Cancelled, first.Job.Status);
        Assert.DoesNotContain(runs.Keys, n => n.StartsWith("c:", StringComparison.Ordinal));
        var second = await runner.RunAsync(job.Id, Request(name =>
        {
            runs.AddOrUpdate(name, 1, (_, n) => n + 1);
            return ValueTask.FromResult<string?>(name);
        }));

        Assert.Equal(JobStatus.Completed, second.Job.Status);
        Assert.Equal(12, runs.Count);
        Assert.All(runs, r => Assert.Equal(1, r.Value));
    }
}
