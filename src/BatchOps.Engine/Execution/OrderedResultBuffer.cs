using BatchOps.Engine.Jobs;

namespace BatchOps.Engine.Execution;

/// <summary>
/// Holds results that finish ahead of an earlier item and releases them in dispatch order (PreserveOrder).
/// Its size is bounded by the chunks in flight, because the producer waits for checkpoints.
/// </summary>
internal sealed class OrderedResultBuffer<TIn, TOut>(Action<ItemResult<TIn, TOut>> emit)
{
    private readonly Dictionary<long, ItemResult<TIn, TOut>> _waiting = [];
    private readonly object _lock = new();
    private long _next;

    public void Add(long ordinal, ItemResult<TIn, TOut> result)
    {
        lock (_lock)
        {
            if (ordinal != _next)
            {
                _waiting.Add(ordinal, result);
                return;
            }

            emit(result);
            _next++;
            while (_waiting.Remove(_next, out var following))
            {
                emit(following);
                _next++;
            }
        }
    }
}
