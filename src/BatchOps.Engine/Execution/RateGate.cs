using System.Threading.RateLimiting;

namespace BatchOps.Engine.Execution;

/// <summary>
/// Limits operation starts per second across all workers with a token bucket
/// (System.Threading.RateLimiting). Tokens are replenished from elapsed time on the run's
/// <see cref="TimeProvider"/>, so a late timer tick loses no tokens and tests can drive it with a fake clock.
/// </summary>
internal sealed class RateGate : IDisposable
{
    private static readonly TimeSpan TargetTick = TimeSpan.FromMilliseconds(10);

    private readonly TokenBucketRateLimiter _limiter;
    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    private readonly double _perSecond;
    private readonly int _tokensPerTick;
    private readonly long _start;
    private readonly object _replenishLock = new();
    private long _granted;

    public RateGate(double perSecond, TimeProvider time)
    {
        _perSecond = perSecond;
        _time = time;
        _tokensPerTick = Math.Max(1, (int)Math.Floor(perSecond * TargetTick.TotalSeconds));
        var tick = TimeSpan.FromSeconds(_tokensPerTick / perSecond);
        _limiter = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = _tokensPerTick,
            TokensPerPeriod = _tokensPerTick,
            ReplenishmentPeriod = tick,
            AutoReplenishment = false,
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
        _start = time.GetTimestamp();
        _granted = _tokensPerTick;
        _timer = time.CreateTimer(static state => ((RateGate)state!).Replenish(), this, tick, tick);
    }

    /// <summary>Waits for permission to start one operation.</summary>
    public async ValueTask WaitAsync(CancellationToken cancellationToken)
    {
        using var lease = await _limiter.AcquireAsync(1, cancellationToken).ConfigureAwait(false);
        if (!lease.IsAcquired)
        {
            throw new InvalidOperationException("The rate limiter refused a permit although its queue is unbounded.");
        }
    }

    private void Replenish()
    {
        lock (_replenishLock)
        {
            var due = (long)Math.Floor(_time.GetElapsedTime(_start).TotalSeconds * _perSecond) + _tokensPerTick;
            while (_granted + _tokensPerTick <= due)
            {
                _limiter.TryReplenish();
                _granted += _tokensPerTick;
            }
        }
    }

    public void Dispose()
    {
        _timer.Dispose();
        _limiter.Dispose();
    }
}
