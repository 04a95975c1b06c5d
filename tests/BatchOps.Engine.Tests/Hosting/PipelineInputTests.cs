using BatchOps.Engine.Hosting;

namespace BatchOps.Engine.Tests.Hosting;

public class PipelineInputTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Add_InBatches_EngineReadsEveryItemInOrderIncludingThePartialLastBatch()
    {
        using var pump = new PipelinePump();
        using var input = new PipelineInput<int>(capacity: 1_000, batchSize: 100);
        var read = Task.Run(async () =>
        {
            var items = new List<int>();
            await foreach (var item in input.Items)
            {
                items.Add(item);
            }

            return items;
        });

        for (var i = 0; i < 1_234; i++)
        {
            Assert.True(input.Add(i, pump, _ => { }));
        }

        input.Complete();

        Assert.Equal(Enumerable.Range(0, 1_234), await read.WaitAsync(Bound));
    }

    [Fact]
    public async Task Complete_FromAnotherThread_HandsOverItemsAlreadyTakenAndRefusesLaterOnes()
    {
        using var pump = new PipelinePump();
        using var input = new PipelineInput<int>(capacity: 1_000, batchSize: 100);
        for (var i = 0; i < 42; i++)
        {
            input.Add(i, pump, _ => { });
        }

        await Task.Run(input.Complete);

        using var owner = new PipelinePump();
        Assert.False(input.Add(42, owner, _ => { }));
        var items = new List<int>();
        await foreach (var item in input.Items)
        {
            items.Add(item);
        }

        Assert.Equal(Enumerable.Range(0, 42), items);
    }

    [Fact]
    public void Add_WritesWhatTheRunPostedSoResultsFlowWhileInputArrives()
    {
        using var pump = new PipelinePump();
        using var input = new PipelineInput<int>(capacity: 1_000, batchSize: 100);
        var written = new List<object?>();
        pump.Post(PumpMessageKind.Output, "first result");

        input.Add(1, pump, m => written.Add(m.Payload));

        Assert.Equal(["first result"], written);
    }

    [Fact]
    public void Add_AfterTheInputClosedToken_TakesNothing()
    {
        using var pump = new PipelinePump();
        using var input = new PipelineInput<int>(capacity: 10, batchSize: 5);
        using var closed = new CancellationTokenSource();
        closed.Cancel();

        Assert.False(input.Add(1, pump, _ => { }, closed.Token));
    }

    [Fact]
    public async Task Add_BufferFull_WaitsUntilTheEngineReadsAndKeepsTheBound()
    {
        using var pump = new PipelinePump();
        using var input = new PipelineInput<int>(capacity: 20, batchSize: 10);
        var enumerator = input.Items.GetAsyncEnumerator();
        for (var i = 0; i < 20; i++)
        {
            input.Add(i, pump, _ => { });
        }

        // Two batches queued: the next full batch is handed over, then Add waits for the engine.
        var adding = Task.Run(() =>
        {
            using var thread = new PipelinePump();
            for (var i = 20; i < 30; i++)
            {
                input.Add(i, thread, _ => { });
            }
        });
        await Task.Delay(300);
        Assert.False(adding.IsCompleted);

        Assert.True(await enumerator.MoveNextAsync().AsTask().WaitAsync(Bound));
        await adding.WaitAsync(Bound);
        Assert.Equal(0, enumerator.Current);
    }
}
