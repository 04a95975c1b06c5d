using BatchOps.Engine.Jobs;

namespace BatchOps.Engine.Execution;

/// <summary>One item waiting for a worker: a slot of a chunk. A struct, so queueing an item allocates nothing.</summary>
internal readonly record struct WorkItem<TIn, TOut>(Chunk<TIn, TOut> Chunk, int Slot)
{
    public BatchItem<TIn> Item => Chunk.Items[Slot];

    public long Ordinal => Chunk.FirstOrdinal + Slot;
}
