using System.Text.Json;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using BatchOps.Engine.Tests.Support;
using BatchOps.Testing;

namespace BatchOps.Engine.Tests.Jobs;

/// <summary>JobRunner.CreateAsync makes a job whole or not at all, on every store.</summary>
[Collection(PostgresCollection.Name)]
public class JobCreationTests(PostgresServer postgres) : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    public static TheoryData<string> Stores => TestStores.Kinds;

    private static JobDefinition Definition() => new() { Name = "creation", OperationKind = "test", Operation = "{}", Settings = new JobSettings { ChunkSize = 100 } };

    private static IEnumerable<JsonElement> Items(int count, Action<int>? at = null)
    {
        for (var i = 0; i < count; i++)
        {
            at?.Invoke(i);
            yield return JsonSerializer.SerializeToElement(new { n = i });
        }
    }

    private static async Task<IReadOnlyList<JobRecord>> EveryJobAsync(IJobStore store) =>
        [.. await store.FindJobsAsync(new JobQuery()), .. await store.FindJobsAsync(new JobQuery { Statuses = [JobStatus.Creating] })];

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task CreateAsync_WhileItemsAreRecorded_TheJobIsInvisible_ThenPendingWithEveryItem(string kind)
    {
        using var store = await TestStores.CreateAsync(kind, _folder.Path, postgres);
        var runner = new JobRunner(store);
        IReadOnlyList<JobRecord>? listedMidway = null;
        IReadOnlyList<JobRecord>? creatingMidway = null;
        var items = Items(5000, i =>
        {
            if (i == 2500)
            {
                listedMidway = store.FindJobsAsync(new JobQuery()).GetAwaiter().GetResult();
                creatingMidway = store.FindJobsAsync(new JobQuery { Statuses = [JobStatus.Creating] }).GetAwaiter().GetResult();
            }
        });

        var job = await runner.CreateAsync(Definition(), items, JsonPayloadCodec.Instance, "text");

        Assert.Empty(listedMidway!);
        Assert.Equal(job.Id, Assert.Single(creatingMidway!).Id);
        var created = Assert.Single(await store.FindJobsAsync(new JobQuery()));
        Assert.Equal((JobStatus.Pending, 5000L, 5000L), (created.Status, created.Counts.Total, created.Counts.Pending));
        Assert.Null(created.Lease);
        Assert.Equal((JobStatus.Pending, 5000L), (job.Status, job.Counts.Pending));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task CreateAsync_InputThatFailsMidway_LeavesNoJobAtAll(string kind)
    {
        using var store = await TestStores.CreateAsync(kind, _folder.Path, postgres);
        var runner = new JobRunner(store);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => runner.CreateAsync(Definition(), Items(5000, i => _ = i == 3000 ? throw new InvalidOperationException("the export broke") : 0), JsonPayloadCodec.Instance, "text"));

        Assert.Equal("the export broke", error.Message);
        Assert.Empty(await EveryJobAsync(store));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task CreateAsync_CancelledMidway_LeavesNoJobAtAll(string kind)
    {
        using var store = await TestStores.CreateAsync(kind, _folder.Path, postgres);
        var runner = new JobRunner(store);
        using var cancel = new CancellationTokenSource();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => runner.CreateAsync(Definition(), Items(5000, i =>
        {
            if (i == 2000)
            {
                cancel.Cancel();
            }
        }), JsonPayloadCodec.Instance, "text", cancellationToken: cancel.Token));

        Assert.Empty(await EveryJobAsync(store));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task CreateAsync_InitialOutcomes_AreRecordedBeforeTheJobIsVisible(string kind)
    {
        using var store = await TestStores.CreateAsync(kind, _folder.Path, postgres);
        var runner = new JobRunner(store);
        var invalid = new ItemOutcome(7, ItemStatus.Failed, 0, null, new ItemError(ItemError.ValidationErrorType, "item 7: /n: must be < 5", null, isRetryable: false), null, DateTimeOffset.UnixEpoch, TimeSpan.Zero);

        var job = await runner.CreateAsync(Definition(), Items(10), JsonPayloadCodec.Instance, "text", initialOutcomes: [invalid]);

        var stored = (await store.GetJobAsync(job.Id))!;
        Assert.Equal((JobStatus.Pending, 9L, 1L), (stored.Status, stored.Counts.Pending, stored.Counts.Failed));
        Assert.Equal((9L, 1L), (job.Counts.Pending, job.Counts.Failed));
    }

    private static async IAsyncEnumerable<JsonElement> StreamAsync(int count)
    {
        foreach (var item in Items(count))
        {
            await Task.Yield();
            yield return item;
        }
    }

    private static JobRunRequest<JsonElement, string?> Request(Func<bool>? cutShort) => new()
    {
        Operation = BatchOperation<JsonElement, string?>.PerItem((item, _) => ValueTask.FromResult<string?>("ok")),
        InputCodec = JsonPayloadCodec.Instance,
        OutputCodec = TextPayloadCodec.Instance,
        InputCutShort = cutShort,
    };

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task RunNewAsync_InputThatEnded_IsWhole_InputClosedEarly_SaysSoEverywhereAndStaysSo(string kind)
    {
        using var store = await TestStores.CreateAsync(kind, _folder.Path, postgres);
        var runner = new JobRunner(store);

        var whole = await runner.RunNewAsync(Definition() with { Name = "whole" }, StreamAsync(250), Request(null));
        var cut = await runner.RunNewAsync(Definition() with { Name = "cut" }, StreamAsync(250), Request(() => true));

        Assert.False(whole.Job.InputIncomplete);
        Assert.False((await store.GetJobAsync(whole.Job.Id))!.InputIncomplete);
        var stored = (await store.GetJobAsync(cut.Job.Id))!;
        Assert.True(stored.InputIncomplete);
        Assert.StartsWith("input incomplete: 250 item(s) were recorded before the input stopped", stored.Message, StringComparison.Ordinal);
        Assert.StartsWith("input incomplete: 250", cut.Job.Message, StringComparison.Ordinal);
        Assert.StartsWith("input incomplete:", Assert.Single(await store.FindJobsAsync(new JobQuery { Name = "cut" })).Message, StringComparison.Ordinal);

        // A resume runs what was recorded and never passes for the whole input.
        var resumed = await runner.RunAsync(cut.Job.Id, Request(null) with { Kind = RunKind.Resume });
        Assert.True(resumed.Job.InputIncomplete);
        Assert.StartsWith("input incomplete:", resumed.Job.Message, StringComparison.Ordinal);
    }
}
