using BatchOps.Engine.Jobs;

namespace BatchOps.Engine.Progress;

/// <summary>Lock-free counters of a run, turned into <see cref="ProgressSnapshot"/>s on demand.</summary>
internal sealed class ProgressTracker
{
    private readonly TimeProvider _time;
    private readonly long _startTimestamp;
    private long _succeeded;
    private long _failed;
    private long _skipped;
    private long _cancelled;
    private long _running;
    private long _total = -1;

    public ProgressTracker(TimeProvider time, long? total)
    {
        _time = time;
        _startTimestamp = time.GetTimestamp();
        if (total is { } known)
        {
            _total = known;
        }
    }

    public long Succeeded => Interlocked.Read(ref _succeeded);

    public long Failed => Interlocked.Read(ref _failed);

    public long Skipped => Interlocked.Read(ref _skipped);

    public long Cancelled => Interlocked.Read(ref _cancelled);

    public long Running => Interlocked.Read(ref _running);

    public void Started(int count = 1) => Interlocked.Add(ref _running, count);

    public void Ended(int count = 1) => Interlocked.Add(ref _running, -count);

    /// <summary>Sets the total once the input is exhausted, unless the caller gave one.</summary>
    public void InputExhausted(long pulled) => Interlocked.CompareExchange(ref _total, pulled, -1);

    public void Count(ItemStatus status)
    {
        switch (status)
        {
            case ItemStatus.Succeeded: Interlocked.Increment(ref _succeeded); break;
            case ItemStatus.Failed: Interlocked.Increment(ref _failed); break;
            case ItemStatus.Skipped: Interlocked.Increment(ref _skipped); break;
            case ItemStatus.Cancelled: Interlocked.Increment(ref _cancelled); break;
            default: throw new ArgumentOutOfRangeException(nameof(status), status, "Only final statuses are counted.");
        }
    }

    public ProgressSnapshot Snapshot(bool isFinal = false)
    {
        var total = Interlocked.Read(ref _total);
        return new ProgressSnapshot
        {
            Total = total >= 0 ? total : null,
            Succeeded = Succeeded,
            Failed = Failed,
            Skipped = Skipped,
            Cancelled = Cancelled,
            Running = isFinal ? 0 : Math.Max(0, Running),
            Elapsed = _time.GetElapsedTime(_startTimestamp),
            IsFinal = isFinal,
        };
    }
}
