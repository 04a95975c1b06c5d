using BatchOps.Engine.Jobs;
using Polly;

namespace BatchOps.Engine.Execution;

internal sealed partial class BatchRun<TIn, TOut>
{
    private readonly object _advanceLock = new();
    private IStartGate? _rateGate;
    private Chunk<TIn, TOut>? _activeChunk;

    /// <summary>
    /// Per-item workers share the chunk at the head of the queue and claim its items with one interlocked
    /// increment each, so handing an item to a worker costs no queue operation; with one worker, items run
    /// in input order.
    /// </summary>
    private async Task ItemWorkerAsync()
    {
        while (true)
        {
            var chunk = Volatile.Read(ref _activeChunk);
            var slot = chunk?.ClaimSlot() ?? -1;
            if (slot >= 0)
            {
                await RunItemAsync(new WorkItem<TIn, TOut>(chunk!, slot)).ConfigureAwait(false);
            }
            else if (!await AdvanceAsync(chunk).ConfigureAwait(false))
            {
                return;
            }
        }
    }

    /// <summary>Moves the shared head past an exhausted chunk; false once the input is done.</summary>
    private async ValueTask<bool> AdvanceAsync(Chunk<TIn, TOut>? exhausted)
    {
        var reader = _chunkQueue.Reader;
        while (true)
        {
            lock (_advanceLock)
            {
                if (!ReferenceEquals(Volatile.Read(ref _activeChunk), exhausted))
                {
                    return true;
                }

                if (reader.TryRead(out var next))
                {
                    Volatile.Write(ref _activeChunk, next);
                    return true;
                }
            }

            if (!await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                return !ReferenceEquals(Volatile.Read(ref _activeChunk), exhausted);
            }
        }
    }

    private async ValueTask RunItemAsync(WorkItem<TIn, TOut> work)
    {
        if (_options.ItemSlots is not { } slots)
        {
            await RunItemInSlotAsync(work).ConfigureAwait(false);
            return;
        }

        try
        {
            await slots.EnterAsync(ForcedToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Finish(work.Chunk, work.Slot, NotStarted(work.Item));
            return;
        }

        try
        {
            await RunItemInSlotAsync(work).ConfigureAwait(false);
        }
        finally
        {
            slots.Exit();
        }
    }

    private async ValueTask RunItemInSlotAsync(WorkItem<TIn, TOut> work)
    {
        var item = work.Item;
        if (IsHalted)
        {
            Finish(work.Chunk, work.Slot, NotStarted(item));
            return;
        }

        _progress.Started();
        var started = _time.GetTimestamp();
        var startedAt = WallClockAt(started);
        Outcome<TOut> outcome;
        if (ReferenceEquals(_pipeline, ResiliencePipeline.Empty) && _rateGate is null)
        {
            work.Chunk.Attempts[work.Slot] = 1;
            var attempt = StartAttempt(work, 1);
            outcome = await InvokeItemAsync(item, ForcedToken).ConfigureAwait(false);
            EndAttempt(attempt, outcome);
        }
        else
        {
            var context = ResilienceContextPool.Shared.Get(ForcedToken);
            context.Properties.Set(ResiliencePipelineFactory.ItemIndex, item.Index);
            try
            {
                outcome = await _pipeline.ExecuteOutcomeAsync(
                    static async (ctx, state) =>
                    {
                        state.Run.CountAttempt(state.Work);
                        if (state.Run._rateGate is { } gate)
                        {
                            try
                            {
                                await state.Run.WaitForSlotAsync(gate, ctx.CancellationToken).ConfigureAwait(false);
                            }
                            catch (OperationCanceledException cancelled)
                            {
                                return Outcome.FromException<TOut>(cancelled);
                            }
                        }

                        var attempt = state.Run.StartAttempt(state.Work, state.Work.Chunk.Attempts[state.Work.Slot]);
                        var outcome = await state.Run.InvokeItemAsync(state.Work.Item, ctx.CancellationToken).ConfigureAwait(false);
                        EndAttempt(attempt, outcome);
                        return outcome;
                    },
                    context,
                    (Run: this, Work: work)).ConfigureAwait(false);
            }
            finally
            {
                ResilienceContextPool.Shared.Return(context);
            }
        }

        Finish(work.Chunk, work.Slot, Conclude(item, outcome, work.Chunk.Attempts[work.Slot], startedAt, started));
    }

    private void CountAttempt(WorkItem<TIn, TOut> work)
    {
        if (++work.Chunk.Attempts[work.Slot] > 1)
        {
            Interlocked.Increment(ref _retries);
        }
    }

    private async ValueTask<Outcome<TOut>> InvokeItemAsync(BatchItem<TIn> item, CancellationToken cancellationToken)
    {
        try
        {
            var pending = _operation.PerItemOperation!(item, cancellationToken);
            return Outcome.FromResult(pending.IsCompletedSuccessfully ? pending.Result : await pending.ConfigureAwait(false));
        }
        catch (Exception error)
        {
            return Outcome.FromException<TOut>(error);
        }
    }

    /// <summary>Turns the last attempt's outcome into the item's result and applies the error policy.</summary>
    private ItemResult<TIn, TOut> Conclude(BatchItem<TIn> item, Outcome<TOut> outcome, int attempts, DateTimeOffset startedAt, long started, long? endedAt = null)
    {
        var ended = endedAt ?? _time.GetTimestamp();
        var status = ItemStatus.Succeeded;
        ItemError? error = null;
        if (outcome.Exception is BatchLimitException limit)
        {
            Halt(StopReason.ErrorPolicy, StopMode.Graceful, limit.Message);
            status = ItemStatus.Skipped;
            error = ItemError.FromException(limit, isRetryable: false);
        }
        else if (outcome.Exception is { } exception)
        {
            var cancelled = exception is OperationCanceledException && ForcedToken.IsCancellationRequested;
            status = cancelled ? ItemStatus.Cancelled : ItemStatus.Failed;
            error = ItemError.FromException(exception, !cancelled && _isRetryable(exception));
            if (!cancelled)
            {
                CountFailure();
            }
        }

        return new ItemResult<TIn, TOut>
        {
            Index = item.Index,
            Key = item.Key,
            Input = item.Value,
            Output = status == ItemStatus.Succeeded ? outcome.Result : default,
            Status = status,
            Attempts = attempts,
            Duration = _time.GetElapsedTime(started, ended),
            StartedAt = startedAt,
            EndedAt = WallClockAt(ended),
            Error = error,
        };
    }

    /// <summary>The wall-clock time of a timestamp, from the run's start: one clock read per item end instead of two per item.</summary>
    private DateTimeOffset WallClockAt(long timestamp) => _startedAt + _time.GetElapsedTime(_startTimestamp, timestamp);

    private void CountFailure()
    {
        var failures = Interlocked.Increment(ref _failures);
        if (_options.StopOnError)
        {
            Halt(StopReason.ErrorPolicy, StopMode.Graceful, "Stopped after the first failure (StopOnError); items not started were skipped.");
        }
        else if (_options.MaxErrors is { } limit && failures >= limit)
        {
            Halt(StopReason.ErrorPolicy, StopMode.Graceful, $"Stopped after {limit} failures (MaxErrors {limit}); items not started were skipped.");
        }
    }

    private ItemResult<TIn, TOut> NotStarted(BatchItem<TIn> item)
    {
        _progress.NeverStarted();
        bool cancelled;
        lock (_stopLock)
        {
            cancelled = _stopReason == StopReason.Cancelled;
        }

        return new ItemResult<TIn, TOut>
        {
            Index = item.Index,
            Key = item.Key,
            Input = item.Value,
            Status = cancelled ? ItemStatus.Cancelled : ItemStatus.Skipped,
            EndedAt = _time.GetUtcNow(),
        };
    }

    private bool ShouldRetry(Exception error) =>
        !(error is OperationCanceledException && ForcedToken.IsCancellationRequested) && _isRetryable(error);
}
