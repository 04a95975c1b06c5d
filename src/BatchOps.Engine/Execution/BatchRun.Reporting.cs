using BatchOps.Engine.Diagnostics;
using BatchOps.Engine.Jobs;

namespace BatchOps.Engine.Execution;

internal sealed partial class BatchRun<TIn, TOut>
{
    /// <summary>Records one final outcome: progress counters, the caller's stream, and the chunk checkpoint.</summary>
    private void Finish(Chunk<TIn, TOut> chunk, int slot, ItemResult<TIn, TOut> result)
    {
        _progress.Count(result.Status);
        if (_ordered is not null)
        {
            _ordered.Add(chunk.FirstOrdinal + slot, result);
        }
        else
        {
            Emit(result);
        }

        if (chunk.Complete(slot, result))
        {
            StopChunkActivity(chunk);
            _checkpoints.Writer.TryWrite(chunk);
        }
    }

    private void Emit(ItemResult<TIn, TOut> result)
    {
        // Not through Notify: this runs once per item and must not allocate a closure.
        try
        {
            _observer?.OnItemCompleted(result);
        }
        catch (Exception error)
        {
            Fault(error, $"The result observer threw: {error.Message}");
        }
    }

    /// <summary>
    /// Hands finished chunks to the observer one at a time (the store's transaction per chunk), then frees
    /// the chunk's slot so the producer may read more input.
    /// </summary>
    private async Task CheckpointLoopAsync()
    {
        await foreach (var chunk in _checkpoints.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            BatchTelemetry.ChunkEnded(_tags, chunk.Results);
            if (_observer is not null)
            {
                try
                {
                    await _observer.OnChunkCompletedAsync(chunk.Sequence, chunk.Results).ConfigureAwait(false);
                }
                catch (Exception error)
                {
                    Fault(error, $"Recording the outcomes of chunk {chunk.Sequence} failed: {error.Message}");
                }
            }

            _chunkSlots.Release();
        }
    }

    private void ReportProgress()
    {
        if (Interlocked.Exchange(ref _progressBusy, 1) == 1)
        {
            return;
        }

        try
        {
            Notify(o => o.OnProgress(_progress.Snapshot()), "progress observer");
        }
        finally
        {
            Volatile.Write(ref _progressBusy, 0);
        }
    }

    private void OnRetry(RetryNotice notice) => Notify(o => o.OnRetry(notice), "retry observer");

    /// <summary>Calls the observer; an exception from it becomes a fault of the run instead of killing a worker.</summary>
    private void Notify(Action<BatchObserver<TIn, TOut>> call, string what)
    {
        if (_observer is null)
        {
            return;
        }

        try
        {
            call(_observer);
        }
        catch (Exception error)
        {
            Fault(error, $"The {what} threw: {error.Message}");
        }
    }
}
