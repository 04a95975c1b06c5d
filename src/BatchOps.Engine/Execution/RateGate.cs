namespace BatchOps.Engine.Execution;

/// <summary>
/// Limits operation starts per second across all workers: a token bucket refilled from elapsed time on the
/// run's <see cref="TimeProvider"/>. Tokens due while callers wait are all handed out, so a late timer
/// tick loses nothing, and tests drive it with a fake clock.
/// </summary>
/// <remarks>
/// Not System.Threading.RateLimiting's TokenBucketRateLimiter: its manual replenishment reads the real
/// Stopwatch (so a TimeProvider cannot drive it) and behaves differently between .NET 8, which PowerShell
/// 7.4 runs on, and later runtimes (one period per call, or a fraction of a token when called often); a
/// late tick then lost tokens and 100/s ran at about 54/s.
/// </remarks>
internal sealed class RateGate : IDisposable
{
    private static readonly TimeSpan TargetTick = TimeSpan.FromMilliseconds(10);

    private readonly SemaphoreSlim _permits;
    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    private readonly double _perSecond;
    private readonly int _burst;
    private readonly long _start;
    private readonly object _lock = new();
    private long _granted;
    private int _waiting;

    public RateGate(double perSecond, TimeProvider time)
    {
        _perSecond = perSecond;
        _time = time;
        _burst = Math.Max(1, (int)Math.Floor(perSecond * TargetTick.TotalSeconds));
        _permits = new SemaphoreSlim(_burst, int.MaxValue);
        _granted = _burst;
        _start = time.GetTimestamp();
        var tick = TimeSpan.FromSeconds(_burst / perSecond);
        _timer = time.CreateTimer(static state => ((RateGate)state!).Refill(), this, tick, tick);
    }

    /// <summary>Waits for permission to start one operation.</summary>
    public async ValueTask WaitAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _waiting);
        try
        {
            await _permits.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }
    }

    /// <summary>Hands out the tokens that fell due since the last refill: to every waiter, and up to the burst in stock.</summary>
    private void Refill()
    {
        lock (_lock)
        {
            var due = (long)Math.Floor(_time.GetElapsedTime(_start).TotalSeconds * _perSecond) + _burst;
            var fresh = due - _granted;
            if (fresh <= 0)
            {
                return;
            }

            _granted = due;
            var room = Math.Max(0, _burst - _permits.CurrentCount) + Volatile.Read(ref _waiting);
            var release = (int)Math.Min(fresh, room);
            if (release > 0)
            {
                _permits.Release(release);
            }
        }
    }

    public void Dispose()
    {
        _timer.Dispose();
        _permits.Dispose();
    }
}
