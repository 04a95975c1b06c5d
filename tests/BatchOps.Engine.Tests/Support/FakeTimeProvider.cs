namespace BatchOps.Engine.Tests.Support;

/// <summary>
/// A clock that moves only when a test says so. Timers fire, in due order, while <see cref="Advance"/> moves
/// time past them. (Microsoft.Extensions.TimeProvider.Testing is not available to this build.)
/// </summary>
public sealed class FakeTimeProvider : TimeProvider
{
    private readonly object _lock = new();
    private readonly List<FakeTimer> _timers = [];
    private DateTimeOffset _now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private long _ticks;

    public override DateTimeOffset GetUtcNow()
    {
        lock (_lock)
        {
            return _now;
        }
    }

    public override long GetTimestamp()
    {
        lock (_lock)
        {
            return _ticks;
        }
    }

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new FakeTimer(this, callback, state);
        lock (_lock)
        {
            _timers.Add(timer);
        }

        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>Moves time forward, firing every timer that falls due on the way.</summary>
    public void Advance(TimeSpan by)
    {
        long target;
        lock (_lock)
        {
            target = _ticks + by.Ticks;
        }

        while (true)
        {
            FakeTimer? next;
            lock (_lock)
            {
                next = _timers.Where(t => t.DueAt is { } due && due <= target).OrderBy(t => t.DueAt).FirstOrDefault();
                if (next is null)
                {
                    Move(target);
                    return;
                }

                Move(next.DueAt!.Value);
                next.Rearm();
            }

            next.Fire();
        }
    }

    /// <summary>
    /// Moves time forward as a busy machine would: timers that fell due fire only once, late, at the end
    /// (a periodic timer then continues from there).
    /// </summary>
    public void AdvanceLate(TimeSpan by)
    {
        List<FakeTimer> due;
        lock (_lock)
        {
            Move(_ticks + by.Ticks);
            due = _timers.Where(t => t.DueAt is { } at && at <= _ticks).ToList();
            foreach (var timer in due)
            {
                timer.RearmAfter(_ticks);
            }
        }

        foreach (var timer in due)
        {
            timer.Fire();
        }
    }

    /// <summary>Moves time to the next armed timer (if any) and fires it; false when no timer is armed.</summary>
    public bool AdvanceToNextTimer()
    {
        long due;
        lock (_lock)
        {
            var next = _timers.Where(t => t.DueAt is not null).OrderBy(t => t.DueAt).FirstOrDefault();
            if (next is null)
            {
                return false;
            }

            due = next.DueAt!.Value;
        }

        Advance(TimeSpan.FromTicks(Math.Max(0, due - GetTimestamp())));
        return true;
    }

    private void Move(long ticks)
    {
        if (ticks > _ticks)
        {
            _now += TimeSpan.FromTicks(ticks - _ticks);
            _ticks = ticks;
        }
    }

    private sealed class FakeTimer(FakeTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        private long _period;

        public long? DueAt { get; private set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (owner._lock)
            {
                _period = period == Timeout.InfiniteTimeSpan ? 0 : period.Ticks;
                DueAt = dueTime == Timeout.InfiniteTimeSpan ? null : owner._ticks + Math.Max(0, dueTime.Ticks);
            }

            return true;
        }

        /// <summary>Called under the owner's lock before firing.</summary>
        public void Rearm() => DueAt = _period > 0 ? DueAt + _period : null;

        /// <summary>Called under the owner's lock: the next period after <paramref name="now"/>.</summary>
        public void RearmAfter(long now) => DueAt = _period > 0 ? now + _period : null;

        public void Fire() => callback(state);

        public void Dispose()
        {
            lock (owner._lock)
            {
                DueAt = null;
                owner._timers.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return default;
        }
    }
}
