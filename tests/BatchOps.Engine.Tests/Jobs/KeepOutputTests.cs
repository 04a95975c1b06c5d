using System.Text.Json;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using BatchOps.Engine.Tests.Support;
using BatchOps.Testing;

namespace BatchOps.Engine.Tests.Jobs;

/// <summary>
/// KeepOutput: what the store keeps of a job's outputs, on every store, and on every later run of the job
/// (resume, retry). The caller still sees every output as items complete.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class KeepOutputTests(PostgresServer postgres) : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    public static TheoryData<string> Stores => TestStores.Kinds;

    private static IEnumerable<JsonElement> Numbers(int count) =>
        Enumerable.Range(0, count).Select(i => JsonSerializer.SerializeToElement(new { n = i }));

    private static JobRunRequest<JsonElement, string?> Request(Func<int, string?> work, List<string?> seen, RunKind kind = RunKind.Resume) => new()
    {
        Operation = BatchOperation<JsonElement, string?>.PerItem((item, _) => ValueTask.FromResult(work(item.Value.GetProperty("n").GetInt32()))),
        InputCodec = JsonPayloadCodec.Instance,
        OutputCodec = TextPayloadCodec.Instance,
        Kind = kind,
        Observer = new Seen(seen),
    };

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task None_KeepsNoOutputs_OnTheFirstRunResumeAndRetry_WhileTheCallerSeesThemAll(string kind)
    {
        using var store = await TestStores.CreateAsync(kind, _folder.Path, postgres);
        var runner = new JobRunner(store, StoreLocation.LogFolder(_folder.Path));
        var job = await runner.CreateAsync(
            new JobDefinition { Name = "quiet", OperationKind = "test", Operation = "{}", Settings = new JobSettings { ChunkSize = 10, ThrottleLimit = 2, KeepOutput = OutputKeeping.None } },
            Numbers(50), JsonPayloadCodec.Instance, "text");
        var seen = new List<string?>();

        var first = await runner.RunAsync(job.Id, Request(n => n == 7 ? throw new InvalidOperationException("seven") : $"out {n}", seen));
        var retried = await runner.RunAsync(job.Id, Request(n => $"out {n}", seen, RunKind.RetryFailed));

        Assert.Equal((49L, 1L), (first.Job.Counts.Succeeded, first.Job.Counts.Failed));
        Assert.Equal(50L, retried.Job.Counts.Succeeded);
        Assert.Equal(50, seen.Count(s => s is not null));
        var items = await store.GetItemsAsync(job.Id, ItemQuery.All).ToListAsync();
        Assert.Equal(50, items.Count);
        Assert.All(items, i => Assert.Null(i.Output));
        Assert.All(items, i => Assert.NotNull(i.EndedAt));
        Assert.Equal("outputs were not kept (KeepOutput None)", retried.Job.OutputsNotKept());
        Assert.Equal(OutputKeeping.None, (await store.GetJobAsync(job.Id))!.Settings.KeepOutput);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Failed_KeepsTheFailuresRecord_AndNoOutputOfSucceededItems(string kind)
    {
        using var store = await TestStores.CreateAsync(kind, _folder.Path, postgres);
        var runner = new JobRunner(store, StoreLocation.LogFolder(_folder.Path));
        var job = await runner.CreateAsync(
            new JobDefinition { Name = "failures", OperationKind = "test", Operation = "{}", Settings = new JobSettings { ChunkSize = 5, KeepOutput = OutputKeeping.Failed } },
            Numbers(20), JsonPayloadCodec.Instance, "text");

        var run = await runner.RunAsync(job.Id, Request(n => n % 6 == 0 ? throw new InvalidOperationException($"bad {n}") : $"out {n}", []));

        Assert.Equal((16L, 4L), (run.Job.Counts.Succeeded, run.Job.Counts.Failed));
        var items = await store.GetItemsAsync(job.Id, ItemQuery.All).ToListAsync();
        Assert.All(items, i => Assert.Null(i.Output));
        Assert.Equal(["bad 0", "bad 6", "bad 12", "bad 18"], items.Where(i => i.Status == ItemStatus.Failed).Select(i => i.Error!.Message));
        Assert.Equal("outputs of succeeded items were not kept (KeepOutput Failed)", run.Job.OutputsNotKept());
    }

    [Fact]
    public async Task All_IsTheDefault_AndKeepsEveryOutput()
    {
        using var store = SqliteJobStore.Open(_folder.Path);
        var runner = new JobRunner(store);
        var job = await runner.CreateAsync(new JobDefinition { Name = "kept", OperationKind = "test", Operation = "{}" }, Numbers(3), JsonPayloadCodec.Instance, "text");

        var run = await runner.RunAsync(job.Id, Request(n => $"out {n}", []));

        Assert.Null(run.Job.OutputsNotKept());
        Assert.Equal(["out 0", "out 1", "out 2"], (await store.GetItemsAsync(job.Id, ItemQuery.All).ToListAsync()).Select(i => i.Output));
    }

    [Theory]
    [InlineData(OutputKeeping.None)]
    [InlineData(OutputKeeping.Failed)]
    public async Task AJobThatCanBeUndone_MustKeepItsOutputs(OutputKeeping keep)
    {
        using var store = SqliteJobStore.Open(_folder.Path);
        var runner = new JobRunner(store);
        var definition = new JobDefinition
        {
            Name = "undoable",
            OperationKind = "test",
            Operation = "{}",
            Undo = new UndoDefinition { OperationKind = "test", Operation = "{}" },
            Settings = new JobSettings { KeepOutput = keep },
        };

        var error = await Assert.ThrowsAsync<ArgumentException>(() => runner.CreateAsync(definition, Numbers(3), JsonPayloadCodec.Instance, "text"));

        Assert.Contains("An undo operation reads each item's output", error.Message, StringComparison.Ordinal);
        Assert.Empty(await store.FindJobsAsync(new JobQuery()));
    }

    private sealed class Seen(List<string?> seen) : BatchObserver<JsonElement, string?>
    {
        public override void OnItemCompleted(ItemResult<JsonElement, string?> result)
        {
            lock (seen)
            {
                seen.Add(result.Output);
            }
        }
    }
}
