using BatchOps.Engine.Execution;
using BatchOps.Engine.Tests.Support;

namespace BatchOps.Engine.Tests.Execution;

public class RateGateTests
{
    [Theory]
    [InlineData(10.0)]
    [InlineData(100.0)]
    [InlineData(1000.0)]
    public async Task WaitAsync_LateTimerTick_CatchesUpToTheRateWithoutExceedingIt(double perSecond)
    {
        // Regression: a tick arriving late (a busy machine) granted one period's tokens instead of all that
        // were due, so 100/s ran at about 54/s.
        var time = new FakeTimeProvider();
        var gate = new RateGate(perSecond, time);

        // Slots start one burst window in the past, one interval apart: by time t, (t + burst) × rate + 1 starts.
        int Expected(double seconds) => (int)Math.Floor(((seconds + RateGate.BurstWindow.TotalSeconds) * perSecond) + 1e-9) + 1;
        var granted = 0;
        var waiters = Enumerable.Range(0, 4000).Select(async _ =>
        {
            await gate.WaitAsync(CancellationToken.None);
            Interlocked.Increment(ref granted);
        }).ToList();

        Assert.Equal(Expected(0), await SettledAsync(() => Volatile.Read(ref granted)));

        // Timers that fire once, 2.5 s late, must let through everything that fell due meanwhile.
        time.AdvanceLate(TimeSpan.FromSeconds(2.5));
        Assert.Equal(Expected(2.5), await SettledAsync(() => Volatile.Read(ref granted)));

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(Expected(3.5), await SettledAsync(() => Volatile.Read(ref granted)));
        GC.KeepAlive(waiters);
    }

    /// <summary>Waits (real time) until the released waiters have all run: the count stops changing.</summary>
    private static async Task<int> SettledAsync(Func<int> read)
    {
        var last = -1;
        for (var stable = 0; stable < 5;)
        {
            await Task.Delay(20);
            var now = read();
            stable = now == last ? stable + 1 : 0;
            last = now;
        }

        return last;
    }
}
