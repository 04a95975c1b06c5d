using System.Diagnostics;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Logging;
using BatchOps.Engine.Progress;
using BatchOps.Engine.Store;

namespace BatchOps.Engine.Jobs;

/// <summary>
/// Sits between the engine and the front end's observer: records streamed items before they run, commits
/// each chunk's outcomes in one transaction, logs failures, and forwards everything else.
/// </summary>
internal sealed class DurableObserver<TIn, TOut>(
    IJobStore store,
    string jobId,
    IPayloadCodec<TOut> outputCodec,
    BatchObserver<TIn, TOut>? inner,
    JobLog log,
    bool recordItems,
    IPayloadCodec<TIn> inputCodec,
    RangeDocuments? documents = null,
    Diagnostics.RunTags? tags = null,
    OutputKeeping keep = OutputKeeping.All) : BatchObserver<TIn, TOut>
{
    private readonly RetryLog _retries = new(keep);

    public override async ValueTask OnChunkStartingAsync(long chunk, IReadOnlyList<BatchItem<TIn>> items)
    {
        if (recordItems)
        {
            var stored = new StoredItem[items.Count];
            for (var i = 0; i < stored.Length; i++)
            {
                stored[i] = new StoredItem { Index = items[i].Index, Key = items[i].Key, Input = inputCodec.Serialize(items[i].Value) };
            }

            await store.AddItemBlocksAsync(jobId, stored, stored.Length).ConfigureAwait(false);
        }

        if (inner is not null)
        {
            await inner.OnChunkStartingAsync(chunk, items).ConfigureAwait(false);
        }
    }

    public override void OnItemCompleted(ItemResult<TIn, TOut> result)
    {
        if (result.Status == ItemStatus.Failed && result.Error is not null)
        {
            log.Failure(result.Index, result.Key, result.Error);
        }

        inner?.OnItemCompleted(result);
    }

    public override async ValueTask OnChunkCompletedAsync(long chunk, IReadOnlyList<ItemResult<TIn, TOut>> results)
    {
        var started = Stopwatch.GetTimestamp();
        await store.CheckpointAsync(jobId, _retries.Outcomes(results, outputCodec)).ConfigureAwait(false);
        Diagnostics.BatchTelemetry.CheckpointRecorded(Stopwatch.GetElapsedTime(started), tags ?? Diagnostics.RunTags.None);
        if (inner is not null)
        {
            await inner.OnChunkCompletedAsync(chunk, results).ConfigureAwait(false);
        }

        // Recorded and seen by every observer: items read from an items file are done with.
        documents?.Release(results);
    }

    public override void OnRetry(RetryNotice notice)
    {
        _retries.Add(notice);
        inner?.OnRetry(notice);
    }

    public override void OnProgress(ProgressSnapshot snapshot) => inner?.OnProgress(snapshot);
}
