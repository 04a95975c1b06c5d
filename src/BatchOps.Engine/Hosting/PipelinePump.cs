using System.Collections.Concurrent;

namespace BatchOps.Engine.Hosting;

/// <summary>
/// Hands what worker threads produce to the one thread allowed to write to a PowerShell pipeline.
/// Workers <see cref="Post"/> from any thread; the owner thread drains with <see cref="Drain"/> or
/// <see cref="DrainUntilCompleted"/>, which refuse to run on any other thread. Messages keep their order;
/// progress is coalesced to the latest snapshot, so a flood of updates never queues up.
/// </summary>
public sealed class PipelinePump : IDisposable
{
    private readonly ConcurrentQueue<PumpMessage> _queue = new();
    private readonly AutoResetEvent _signal = new(false);
    private readonly int _ownerThreadId;
    private object? _latestProgress;
    private volatile bool _completed;

    // 1 while the owner waits: posters signal only then, so a busy run costs no system call per message.
    private int _ownerWaiting;

    /// <summary>Creates a pump owned by the calling thread (the cmdlet's pipeline thread).</summary>
    public PipelinePump()
        : this(Environment.CurrentManagedThreadId)
    {
    }

    /// <summary>Creates a pump owned by the given managed thread.</summary>
    public PipelinePump(int ownerThreadId) => _ownerThreadId = ownerThreadId;


    /// <summary>Whether <see cref="Complete"/> was called.</summary>
    public bool IsCompleted => _completed;

    /// <summary>Queues a message from any thread.</summary>
    public void Post(PumpMessageKind kind, object? payload)
    {
        if (kind == PumpMessageKind.Progress)
        {
            Volatile.Write(ref _latestProgress, payload);
        }
        else
        {
            _queue.Enqueue(new PumpMessage(kind, payload));
        }

        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _ownerWaiting) == 1)
        {
            _signal.Set();
        }
    }

    /// <summary>Says no more messages will come (the run ended); wakes the owner.</summary>
    public void Complete()
    {
        _completed = true;
        _signal.Set();
    }

    /// <summary>Writes everything queued now, on the owner thread; returns how many messages were written.</summary>
    public int Drain(Action<PumpMessage> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        AssertOwner();
        var written = 0;
        while (_queue.TryDequeue(out var message))
        {
            write(message);
            written++;
        }

        if (Interlocked.Exchange(ref _latestProgress, null) is { } progress)
        {
            write(new PumpMessage(PumpMessageKind.Progress, progress));
            written++;
        }

        return written;
    }

    /// <summary>
    /// Writes messages as they arrive until <see cref="Complete"/> was called and the queue is empty, or
    /// <paramref name="cancellationToken"/> fires. Runs on the owner thread only.
    /// </summary>
    public void DrainUntilCompleted(Action<PumpMessage> write, CancellationToken cancellationToken = default)
    {
        AssertOwner();
        while (true)
        {
            var completed = _completed;
            Drain(write);
            if (completed || cancellationToken.IsCancellationRequested)
            {
                Drain(write);
                return;
            }

            Wait(cancellationToken.CanBeCanceled ? cancellationToken.WaitHandle : null, TimeSpan.FromMilliseconds(250));
        }
    }

    /// <summary>
    /// Owner thread: waits until something is posted, the pump completes, <paramref name="other"/> is
    /// signalled or <paramref name="timeout"/> passes; returns at once when messages are already waiting.
    /// </summary>
    public void Wait(WaitHandle? other, TimeSpan timeout)
    {
        Volatile.Write(ref _ownerWaiting, 1);
        Interlocked.MemoryBarrier();
        try
        {
            if (!_queue.IsEmpty || _completed || Volatile.Read(ref _latestProgress) is not null)
            {
                return;
            }

            if (other is null)
            {
                _signal.WaitOne(timeout);
            }
            else
            {
                WaitHandle.WaitAny([_signal, other], timeout);
            }
        }
        finally
        {
            Volatile.Write(ref _ownerWaiting, 0);
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _signal.Dispose();

    private void AssertOwner()
    {
        if (Environment.CurrentManagedThreadId != _ownerThreadId)
        {
            throw new InvalidOperationException(
                $"Only the pipeline thread ({_ownerThreadId}) may write to the pipeline; this is thread {Environment.CurrentManagedThreadId}. Post the message to the pump instead.");
        }
    }
}
