using BatchOps.Engine.Jobs;

namespace BatchOps.Engine.Execution;

/// <summary>A group of items dispatched together: the unit of checkpoints and bulk calls.</summary>
internal sealed class Chunk<TIn, TOut>
{
    private int _remaining;
    private int _nextSlot = -1;

    public Chunk(long sequence, long firstOrdinal, BatchItem<TIn>[] items)
    {
        Sequence = sequence;
        FirstOrdinal = firstOrdinal;
        Items = items;
        Results = new ItemResult<TIn, TOut>[items.Length];
        Attempts = new int[items.Length];
        _remaining = items.Length;
    }

    /// <summary>0-based position of the chunk in dispatch order.</summary>
    public long Sequence { get; }

    /// <summary>Dispatch position of the first item across the run, for PreserveOrder.</summary>
    public long FirstOrdinal { get; }

    public BatchItem<TIn>[] Items { get; }

    public ItemResult<TIn, TOut>[] Results { get; }

    /// <summary>The chunk's span while it runs (only when something listens to BatchOps' activity source).</summary>
    public System.Diagnostics.Activity? Activity { get; set; }

    /// <summary>Calls made per item so far (bulk calls count once for every item they carried).</summary>
    public int[] Attempts { get; }

    /// <summary>Claims the next item for a worker; -1 when every item has been claimed.</summary>
    public int ClaimSlot()
    {
        var slot = Interlocked.Increment(ref _nextSlot);
        return slot < Items.Length ? slot : -1;
    }

    /// <summary>Stores one outcome; true when it was the chunk's last.</summary>
    public bool Complete(int slot, ItemResult<TIn, TOut> result)
    {
        Results[slot] = result;
        return Interlocked.Decrement(ref _remaining) == 0;
    }
}
