using System.Buffers;
using System.Text.Json;
using BatchOps.Engine.Store;

namespace BatchOps.Engine.Jobs;

/// <summary>
/// The parsed ranges of an items file that a run has read and not finished: each range's items share one
/// JSON document over a pooled buffer, freed (document disposed, buffers back to their pools) as soon as
/// every item of the range has been checkpointed. A range of 10,000 rows is megabytes: without this every
/// chunk left two large-object-heap arrays behind, and their churn cost a full collection every few chunks.
/// </summary>
internal sealed class RangeDocuments : IDisposable
{
    private readonly object _lock = new();
    private readonly List<Entry> _open = [];

    /// <summary>Ranges read and not yet freed.</summary>
    public int Open
    {
        get
        {
            lock (_lock)
            {
                return _open.Count;
            }
        }
    }

    /// <summary>Takes ownership of a range's document and the pooled buffer holding its text.</summary>
    public void Add(ItemRange range, JsonDocument document, byte[] text)
    {
        lock (_lock)
        {
            _open.Add(new Entry(range.First, range.Last, document, text));
        }
    }

    /// <summary>Counts these items as finished; frees each range whose items all are.</summary>
    public void Release<TIn, TOut>(IReadOnlyList<ItemResult<TIn, TOut>> results)
    {
        lock (_lock)
        {
            foreach (var result in results)
            {
                var at = Find(result.Index);
                if (at >= 0 && --_open[at].Remaining == 0)
                {
                    _open[at].Free();
                    _open.RemoveAt(at);
                }
            }
        }
    }

    /// <summary>Frees what is left (the run is over: nothing reads its inputs any more).</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var entry in _open)
            {
                entry.Free();
            }

            _open.Clear();
        }
    }

    /// <summary>The open range holding <paramref name="index"/> (they are added in order), or -1.</summary>
    private int Find(long index)
    {
        int lo = 0, hi = _open.Count - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var entry = _open[mid];
            if (index < entry.First)
            {
                hi = mid - 1;
            }
            else if (index > entry.Last)
            {
                lo = mid + 1;
            }
            else
            {
                return mid;
            }
        }

        return -1;
    }

    private sealed class Entry(long first, long last, JsonDocument document, byte[] text)
    {
        public long First { get; } = first;

        public long Last { get; } = last;

        public long Remaining { get; set; } = last - first + 1;

        public void Free()
        {
            document.Dispose();
            ArrayPool<byte>.Shared.Return(text);
        }
    }
}
