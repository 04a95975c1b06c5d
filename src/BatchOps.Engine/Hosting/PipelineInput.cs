using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace BatchOps.Engine.Hosting;

/// <summary>
/// Carries pipeline input (ProcessRecord) to the engine as a lazy stream with a bounded buffer. Items are
/// handed over in batches (the engine cannot start a chunk before it is full anyway), so the engine's
/// reader wakes once per batch instead of once per item. Every <see cref="Add"/> writes what the run has
/// posted to the pump, so results flow down the pipeline while input still arrives; when the buffer is
/// full, <see cref="Add"/> waits on the pipeline thread while still draining the pump, so neither side
/// can block the other.
/// </summary>
public sealed class PipelineInput<T> : IDisposable
{
    private readonly Channel<T[]> _batches = Channel.CreateUnbounded<T[]>(new UnboundedChannelOptions { SingleWriter = false, SingleReader = true });
    private readonly AutoResetEvent _space = new(false);
    private readonly object _lock = new();
    private readonly int _batchSize;
    private readonly int _maxQueuedBatches;
    private T[] _batch;
    private int _count;
    private int _queued;
    private bool _completed;

    /// <summary>
    /// Creates the bridge; about <paramref name="capacity"/> items wait for the engine at most, handed over
    /// <paramref name="batchSize"/> at a time (at most the engine's chunk size, so no chunk waits for a batch).
    /// </summary>
    public PipelineInput(int capacity, int batchSize = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        _batchSize = Math.Min(batchSize, capacity);
        _maxQueuedBatches = Math.Max(1, capacity / _batchSize);
        _batch = new T[_batchSize];
    }

    /// <summary>The stream the engine reads.</summary>
    public IAsyncEnumerable<T> Items => ReadAsync();

    /// <summary>Hands one item over, writing pump messages with <paramref name="write"/>; while the buffer is full, waits and keeps writing them.</summary>
    /// <returns>False when the input was closed (the run stopped) and the item was not taken.</returns>
    public bool Add(T item, PipelinePump pump, Action<PumpMessage> write, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pump);
        pump.Drain(write);
        lock (_lock)
        {
            if (_completed || cancellationToken.IsCancellationRequested)
            {
                return false;
            }

            _batch[_count++] = item;
            if (_count < _batchSize)
            {
                return true;
            }

            Publish();
        }

        // The item is handed over; wait only to keep the buffer bounded.
        while (Volatile.Read(ref _queued) > _maxQueuedBatches && !Volatile.Read(ref _completed) && !cancellationToken.IsCancellationRequested)
        {
            pump.Drain(write);
            pump.Wait(_space, TimeSpan.FromMilliseconds(250));
        }

        return true;
    }

    /// <summary>
    /// Marks the end of the input (EndProcessing), or closes it at a stop from any thread: items already
    /// taken are still handed over, nothing is taken after.
    /// </summary>
    public void Complete()
    {
        lock (_lock)
        {
            if (_completed)
            {
                return;
            }

            if (_count > 0)
            {
                Publish();
            }

            _completed = true;
            _batches.Writer.TryComplete();
        }

        _space.Set();
    }

    /// <inheritdoc/>
    public void Dispose() => _space.Dispose();

    private void Publish()
    {
        var batch = _count == _batch.Length ? _batch : _batch[.._count];
        _batch = new T[_batchSize];
        _count = 0;
        Interlocked.Increment(ref _queued);
        _batches.Writer.TryWrite(batch);
    }

    private async IAsyncEnumerable<T> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var batch in _batches.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            if (Interlocked.Decrement(ref _queued) == _maxQueuedBatches)
            {
                SignalSpace();
            }

            foreach (var item in batch)
            {
                yield return item;
            }
        }
    }

    private void SignalSpace()
    {
        try
        {
            _space.Set();
        }
        catch (ObjectDisposedException)
        {
            // The cmdlet ended while the engine still read what was handed over; nobody waits any more.
        }
    }
}
