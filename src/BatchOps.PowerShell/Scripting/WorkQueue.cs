namespace BatchOps.PowerShell.Scripting;

/// <summary>
/// The items waiting for a worker runspace. A lock and Monitor.Wait rather than a BlockingCollection: its
/// semaphore spins (sched_yield) before it blocks, and with more drivers than cores that spinning took
/// more time than running trivial items.
/// </summary>
internal sealed class WorkQueue
{
    private readonly Queue<ScriptWork> _items = new();
    private bool _completed;

    /// <summary>Whether <see cref="Complete"/> was called.</summary>
    public bool IsCompleted
    {
        get
        {
            lock (_items)
            {
                return _completed;
            }
        }
    }

    /// <summary>Queues an item for the next free driver; false when the queue was completed (the pool closed).</summary>
    public bool TryAdd(ScriptWork work)
    {
        lock (_items)
        {
            if (_completed)
            {
                return false;
            }

            _items.Enqueue(work);
            Monitor.Pulse(_items);
            return true;
        }
    }

    /// <summary>Waits for an item; null once the queue is completed and empty, or when <paramref name="stop"/> fires.</summary>
    public ScriptWork? Take(CancellationToken stop)
    {
        using var wake = stop.UnsafeRegister(static state =>
        {
            lock (state!)
            {
                Monitor.PulseAll(state);
            }
        }, _items);
        lock (_items)
        {
            while (true)
            {
                if (stop.IsCancellationRequested)
                {
                    return null;
                }

                if (_items.TryDequeue(out var work))
                {
                    return work;
                }

                if (_completed)
                {
                    return null;
                }

                Monitor.Wait(_items);
            }
        }
    }

    /// <summary>No more items will be added; waiting drivers return.</summary>
    public void Complete()
    {
        lock (_items)
        {
            _completed = true;
            Monitor.PulseAll(_items);
        }
    }
}
