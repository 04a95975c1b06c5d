using BatchOps.Engine.Jobs;

namespace BatchOps.Engine.Execution;

internal sealed partial class BatchRun<TIn, TOut>
{
    private long _chunkSequence;

    /// <summary>
    /// Reads the input into chunks. Before each chunk it waits for a free chunk slot (ThrottleLimit + 1 in
    /// flight, ThrottleLimit without OverlapCheckpoints), so items are pulled only as fast as chunks are checkpointed. Items read before a stop are
    /// still dispatched, so each of them gets an outcome (Skipped or Cancelled).
    /// </summary>
    private async Task ProduceAsync()
    {
        var chunkSize = _options.ChunkSize;
        var pending = new List<BatchItem<TIn>>(chunkSize);
        try
        {
            var enumerator = _items.GetAsyncEnumerator(_halt.Token);
            try
            {
                while (!IsHalted && await MoveNextAsync(enumerator).ConfigureAwait(false))
                {
                    pending.Add(enumerator.Current);
                    Interlocked.Increment(ref _pulled);
                    if (pending.Count == chunkSize)
                    {
                        await DispatchAsync(pending).ConfigureAwait(false);
                        pending.Clear();
                    }
                }
            }
            finally
            {
                await DisposeQuietlyAsync(enumerator).ConfigureAwait(false);
            }

            if (pending.Count > 0)
            {
                await DispatchAsync(pending).ConfigureAwait(false);
            }

            if (!IsHalted)
            {
                _progress.InputExhausted(Interlocked.Read(ref _pulled));
            }
        }
        finally
        {
            _chunkQueue.Writer.Complete();
        }
    }

    private async ValueTask<bool> MoveNextAsync(IAsyncEnumerator<BatchItem<TIn>> enumerator)
    {
        try
        {
            return await enumerator.MoveNextAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (IsHalted)
        {
            return false;
        }
        catch (Exception error)
        {
            var read = Interlocked.Read(ref _pulled);
            Fault(error, $"Reading the input failed after {read} item(s): {error.Message} The items read before the error were run and recorded; fix the input and run the rest again.");
            return false;
        }
    }

    private async ValueTask DisposeQuietlyAsync(IAsyncEnumerator<BatchItem<TIn>> enumerator)
    {
        try
        {
            await enumerator.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception error)
        {
            Fault(error, $"Closing the input failed: {error.Message}");
        }
    }

    private async ValueTask DispatchAsync(List<BatchItem<TIn>> items)
    {
        // Not cancellable: items already read must reach a worker to get an outcome, and slots free up
        // as soon as workers skip them after a stop.
        await _chunkSlots.WaitAsync().ConfigureAwait(false);
        var firstOrdinal = Interlocked.Read(ref _pulled) - items.Count;
        var chunk = new Chunk<TIn, TOut>(_chunkSequence++, firstOrdinal, items.ToArray());
        chunk.Activity = StartChunkActivity(chunk);
        // Recorded even after a stop: streamed items exist nowhere else, and each must keep its outcome.
        if (_observer is not null)
        {
            try
            {
                await _observer.OnChunkStartingAsync(chunk.Sequence, chunk.Items).ConfigureAwait(false);
            }
            catch (Exception error)
            {
                Fault(error, $"Recording chunk {chunk.Sequence} before it ran failed: {error.Message}");
            }
        }

        _chunkQueue.Writer.TryWrite(chunk);
    }
}
