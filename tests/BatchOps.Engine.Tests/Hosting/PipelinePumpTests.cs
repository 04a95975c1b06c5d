using BatchOps.Engine.Hosting;

namespace BatchOps.Engine.Tests.Hosting;

public class PipelinePumpTests
{
    private static PipelinePump CreateSut() => new();

    [Fact]
    public async Task Post_FromManyThreads_DrainedInOrderPerThreadOnTheOwnerOnly()
    {
        using var pump = CreateSut();
        var owner = Environment.CurrentManagedThreadId;
        var producers = Enumerable.Range(0, 4).Select(p => Task.Run(() =>
        {
            for (var i = 0; i < 1000; i++)
            {
                pump.Post(PumpMessageKind.Output, (p, i));
            }
        })).ToArray();
        _ = Task.WhenAll(producers).ContinueWith(_ => pump.Complete(), TaskScheduler.Default);

        var written = new List<(int P, int I)>();
        pump.DrainUntilCompleted(m =>
        {
            Assert.Equal(owner, Environment.CurrentManagedThreadId);
            written.Add(((int, int))m.Payload!);
        });

        await Task.WhenAll(producers);
        Assert.Equal(4000, written.Count);
        foreach (var group in written.GroupBy(w => w.P))
        {
            Assert.Equal(Enumerable.Range(0, 1000), group.Select(g => g.I));
        }
    }

    [Fact]
    public void Drain_FromAnotherThread_ThrowsNamingTheRule()
    {
        using var pump = CreateSut();
        pump.Post(PumpMessageKind.Output, 1);
        Exception? error = null;

        // A dedicated thread: a pool task could run on this very thread.
        var other = new Thread(() => error = Record.Exception(() => pump.Drain(_ => { })));
        other.Start();
        other.Join();

        Assert.Contains("Only the pipeline thread", Assert.IsType<InvalidOperationException>(error).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Post_ManyProgressSnapshots_KeepsOnlyTheLatestAndKeepsOtherMessages()
    {
        using var pump = CreateSut();
        for (var i = 0; i < 500; i++)
        {
            pump.Post(PumpMessageKind.Progress, i);
        }

        pump.Post(PumpMessageKind.Verbose, "v");
        var written = new List<PumpMessage>();
        pump.Drain(written.Add);

        Assert.Equal([new PumpMessage(PumpMessageKind.Verbose, "v"), new PumpMessage(PumpMessageKind.Progress, 499)], written);
    }

    [Fact]
    public void DrainUntilCompleted_Cancelled_ReturnsWithoutCompletion()
    {
        using var pump = CreateSut();
        using var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));

        pump.DrainUntilCompleted(_ => { }, stop.Token);

        Assert.False(pump.IsCompleted);
    }

    [Fact]
    public void PipelineInput_Full_WaitsWhileDrainingThePump()
    {
        using var pump = CreateSut();
        var input = new PipelineInput<int>(capacity: 2);
        var written = new List<object?>();
        var consumed = new List<int>();
        var consumer = Task.Run(async () =>
        {
            await foreach (var item in input.Items)
            {
                pump.Post(PumpMessageKind.Output, item * 10);
                consumed.Add(item);
                await Task.Delay(1);
            }
        });

        for (var i = 0; i < 50; i++)
        {
            Assert.True(input.Add(i, pump, m => written.Add(m.Payload)));
        }

        input.Complete();

        // Blocking wait on purpose: the pump belongs to this thread, and an await could resume elsewhere.
        Assert.True(SpinWait.SpinUntil(() => consumer.IsCompleted, TimeSpan.FromSeconds(10)));
        pump.Drain(m => written.Add(m.Payload));

        Assert.Equal(Enumerable.Range(0, 50), consumed);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => (object?)(i * 10)), written);
    }
}
