using System.Collections.Concurrent;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Progress;

namespace BatchOps.Engine.Tests.Support;

/// <summary>Keeps everything a run reports, in the order reported.</summary>
public class RecordingObserver<TIn, TOut> : BatchObserver<TIn, TOut>
{
    private readonly object _lock = new();

    public List<ItemResult<TIn, TOut>> Results { get; } = [];

    public ConcurrentQueue<RetryNotice> Retries { get; } = new();

    public ConcurrentQueue<ProgressSnapshot> Snapshots { get; } = new();

    public List<(long Chunk, long[] Indexes)> StartedChunks { get; } = [];

    public List<(long Chunk, ItemResult<TIn, TOut>[] Results)> CompletedChunks { get; } = [];

    public ItemResult<TIn, TOut> this[long index] => Results.Single(r => r.Index == index);

    public override ValueTask OnChunkStartingAsync(long chunk, IReadOnlyList<BatchItem<TIn>> items)
    {
        lock (_lock)
        {
            StartedChunks.Add((chunk, items.Select(i => i.Index).ToArray()));
        }

        return default;
    }

    public override void OnItemCompleted(ItemResult<TIn, TOut> result)
    {
        lock (_lock)
        {
            Results.Add(result);
        }
    }

    public override ValueTask OnChunkCompletedAsync(long chunk, IReadOnlyList<ItemResult<TIn, TOut>> results)
    {
        lock (_lock)
        {
            CompletedChunks.Add((chunk, results.ToArray()));
        }

        return default;
    }

    public override void OnRetry(RetryNotice notice) => Retries.Enqueue(notice);

    public override void OnProgress(ProgressSnapshot snapshot) => Snapshots.Enqueue(snapshot);
}
