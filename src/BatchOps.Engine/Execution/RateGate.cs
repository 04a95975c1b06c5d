namespace BatchOps.Engine.Execution;

/// <summary>
/// Limits operation starts per second across all workers by giving each start a slot in time, one
/// interval after the previous one (the "virtual scheduling" form of a token bucket), with a burst
/// allowance of 50 ms worth of starts. A caller whose slot lies ahead waits on the run's
/// <see cref="TimeProvider"/>; a caller that wakes late does not push later slots back, so a busy machine
/// costs no throughput and the long-run rate is exact. Tests drive it with a fake clock.
/// </summary>
/// <remarks>
/// Not System.Threading.RateLimiting's TokenBucketRateLimiter: its manual replenishment reads the real
/// Stopwatch (so a TimeProvider cannot drive it) and behaves differently between .NET 8, which PowerShell
/// 7.4 runs on, and later runtimes; with late timer ticks 100/s ran at about 54/s.
/// </remarks>
internal sealed class RateGate : IStartGate
{
    /// <summary>How far behind "now" slots may be handed out: the burst allowance.</summary>
    public static readonly TimeSpan BurstWindow = TimeSpan.FromMilliseconds(50);

    private readonly TimeProvider _time;
    private readonly TimeSpan _interval;
    private readonly long _start;
    private readonly object _lock = new();
    private TimeSpan _next;

    public RateGate(double perSecond, TimeProvider time)
    {
        _time = time;
        _interval = TimeSpan.FromTicks(Math.Max(1, (long)Math.Round(TimeSpan.TicksPerSecond / perSecond)));
        _start = time.GetTimestamp();
        _next = -BurstWindow;
    }

    /// <summary>Waits for this caller's slot to start one operation.</summary>
    public async ValueTask WaitAsync(CancellationToken cancellationToken)
    {
        TimeSpan wait;
        lock (_lock)
        {
            var now = _time.GetElapsedTime(_start);
            var earliest = now - BurstWindow;
            if (_next < earliest)
            {
                _next = earliest;
            }

            wait = _next - now;
            _next += _interval;
        }

        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
        }
    }
}
