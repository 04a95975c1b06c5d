namespace BatchOps.Engine.Execution;

/// <summary>The work a run does: one call per item, or one bulk call per chunk with fault isolation by bisection.</summary>
public sealed class BatchOperation<TIn, TOut>
{
    private BatchOperation(ItemOperation<TIn, TOut>? perItem, ChunkOperation<TIn, TOut>? perChunk)
    {
        PerItemOperation = perItem;
        PerChunkOperation = perChunk;
    }

    /// <summary>The per-item operation, when this is one.</summary>
    public ItemOperation<TIn, TOut>? PerItemOperation { get; }

    /// <summary>The bulk operation, when this is one.</summary>
    public ChunkOperation<TIn, TOut>? PerChunkOperation { get; }

    /// <summary>Whether the operation takes whole chunks.</summary>
    public bool IsBulk => PerChunkOperation is not null;

    /// <summary>An operation called once per attempt for one item.</summary>
    public static BatchOperation<TIn, TOut> PerItem(ItemOperation<TIn, TOut> operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        return new BatchOperation<TIn, TOut>(operation, null);
    }

    /// <summary>An operation called with a whole chunk; a failed call is split in halves until the bad items are isolated.</summary>
    public static BatchOperation<TIn, TOut> PerChunk(ChunkOperation<TIn, TOut> operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        return new BatchOperation<TIn, TOut>(null, operation);
    }
}
