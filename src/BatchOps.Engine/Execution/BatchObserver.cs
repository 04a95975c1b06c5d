using BatchOps.Engine.Jobs;
using BatchOps.Engine.Progress;

namespace BatchOps.Engine.Execution;

/// <summary>
/// Receives what a run reports. Override what you need; every member does nothing by default.
/// <see cref="OnItemCompleted"/>, <see cref="OnRetry"/> and <see cref="OnProgress"/> are called from worker
/// and timer threads, possibly at once, and must be thread-safe and quick: a front end enqueues and returns.
/// An exception thrown here ends the run as Failed (a fault); outcomes already reported stay reported.
/// </summary>
public abstract class BatchObserver<TIn, TOut>
{
    /// <summary>
    /// Called once per chunk, in input order, before any of its items runs: a durable store records the
    /// items as pending here, so a crash leaves them resumable.
    /// </summary>
    public virtual ValueTask OnChunkStartingAsync(long chunk, IReadOnlyList<BatchItem<TIn>> items) => default;

    /// <summary>Called once per item, as soon as it reaches its final status (in input order with PreserveOrder).</summary>
    public virtual void OnItemCompleted(ItemResult<TIn, TOut> result)
    {
    }

    /// <summary>
    /// Called once per chunk when all of its items have an outcome, from one thread at a time: the
    /// checkpoint, where a durable store commits the chunk's outcomes in one transaction.
    /// </summary>
    public virtual ValueTask OnChunkCompletedAsync(long chunk, IReadOnlyList<ItemResult<TIn, TOut>> results) => default;

    /// <summary>Called before the engine waits to retry an item or a chunk segment.</summary>
    public virtual void OnRetry(RetryNotice notice)
    {
    }

    /// <summary>Called at most once per <see cref="BatchOptions.ProgressInterval"/>, and once more at the end with <see cref="ProgressSnapshot.IsFinal"/>.</summary>
    public virtual void OnProgress(ProgressSnapshot snapshot)
    {
    }
}
