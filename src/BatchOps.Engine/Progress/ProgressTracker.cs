using System.Runtime.InteropServices;
using BatchOps.Engine.Jobs;

namespace BatchOps.Engine.Progress;

/// <summary>
/// Lock-free counters of a run, turned into <see cref="ProgressSnapshot"/>s on demand. Each counter has a
/// cache line of its own, so workers on different cores updating different counters do not slow each
/// other down; "running" is derived from the other counters instead of being counted up and down per item.
/// </summary>
internal sealed class ProgressTracker
{
    private readonly TimeProvider _time;
    private readonly long _startTimestamp;
    private Counters _counters;
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

    public long Succeeded => Interlocked.Read(ref _counters.Succeeded);

    public long Failed => Interlocked.Read(ref _counters.Failed);

    public long Skipped => Interlocked.Read(ref _counters.Skipped);

    public long Cancelled => Interlocked.Read(ref _counters.Cancelled);

    /// <summary>Items started and not yet finished: started minus those of the finished ones that had started.</summary>
    public long Running =>
        Interlocked.Read(ref _counters.Started) - (Succeeded + Failed + Skipped + Cancelled - Interlocked.Read(ref _counters.NeverStarted));

    public void Started(int count = 1) => Interlocked.Add(ref _counters.Started, count);

    /// <summary>An item reached its final status without ever starting (skipped or cancelled while queued).</summary>
    public void NeverStarted() => Interlocked.Increment(ref _counters.NeverStarted);

    /// <summary>Sets the total once the input is exhausted, unless the caller gave one.</summary>
    public void InputExhausted(long pulled) => Interlocked.CompareExchange(ref _total, pulled, -1);

    public void Count(ItemStatus status)
    {
        switch (status)
        {
            case ItemStatus.Succeeded: Interlocked.Increment(ref _counters.Succeeded); break;
            case ItemStatus.Failed: Interlocked.Increment(ref _counters.Failed); break;
            case ItemStatus.Skipped: Interlocked.Increment(ref _counters.Skipped); break;
            case ItemStatus.Cancelled: Interlocked.Increment(ref _counters.Cancelled); break;
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

    /// <summary>One counter per 128-byte line (two cache lines, against adjacent-line prefetching).</summary>
    [StructLayout(LayoutKind.Explicit, Size = 6 * 128)]
    private struct Counters
    {
        [FieldOffset(0)] public long Started;
        [FieldOffset(128)] public long NeverStarted;
        [FieldOffset(256)] public long Succeeded;
        [FieldOffset(384)] public long Failed;
        [FieldOffset(512)] public long Skipped;
        [FieldOffset(640)] public long Cancelled;
    }
}
