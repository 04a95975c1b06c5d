namespace BatchOps.Sql;

/// <summary>What one chunk of a dry run would do: its rows and the count per outcome ("would insert" …, "would fail").</summary>
/// <param name="FirstIndex">The chunk's first row.</param>
/// <param name="LastIndex">The chunk's last row.</param>
/// <param name="Counts">Rows per outcome, in the order people read them.</param>
public sealed record DryRunChunk(long FirstIndex, long LastIndex, IReadOnlyList<(string Label, long Count)> Counts)
{
    /// <summary>"98 would insert, 2 would update, 1 would fail".</summary>
    public string Describe() => DryRunTally.Format(Counts);
}

/// <summary>
/// Adds up a dry run per chunk of the job's chunk size: a chunk split to find its bad rows reports each
/// piece, and its failed rows arrive one by one; a chunk is complete once every row is accounted for.
/// Thread-safe: reports come from the engine's workers.
/// </summary>
public sealed class DryRunTally(int chunkSize, long totalRows)
{
    private static readonly string[] Order = ["would insert", "would update", "unchanged", "would delete", "not found", "applied earlier", "would fail"];
    private readonly Dictionary<long, (long Rows, Dictionary<string, long> Counts)> _open = [];

    /// <summary>A piece of a chunk that ran; returns the chunk when that completed it.</summary>
    public DryRunChunk? Add(SqlChunkReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        return Add(report.FirstIndex, report.Counts.Select(c => (c.Key, (long)c.Value)));
    }

    /// <summary>A row that would fail; returns its chunk when that completed it.</summary>
    public DryRunChunk? AddFailure(long index) => Add(index, [("would fail", 1L)]);

    /// <summary>Outcome counts in reading order: "2 would insert, 1 would update".</summary>
    public static string Format(IEnumerable<(string Label, long Count)> counts) =>
        string.Join(", ", Sorted(counts).Select(c => $"{c.Count} {c.Label}"));

    private DryRunChunk? Add(long index, IEnumerable<(string Label, long Count)> counts)
    {
        var chunk = index / chunkSize;
        var first = chunk * chunkSize;
        var last = Math.Min(first + chunkSize, totalRows) - 1;
        lock (_open)
        {
            if (!_open.TryGetValue(chunk, out var tally))
            {
                tally = (0, new Dictionary<string, long>(StringComparer.Ordinal));
            }

            foreach (var (label, count) in counts)
            {
                tally.Counts[label] = tally.Counts.GetValueOrDefault(label) + count;
                tally.Rows += count;
            }

            if (tally.Rows < last - first + 1)
            {
                _open[chunk] = tally;
                return null;
            }

            _open.Remove(chunk);
            return new DryRunChunk(first, last, Sorted(tally.Counts.Select(c => (c.Key, c.Value))));
        }
    }

    private static List<(string Label, long Count)> Sorted(IEnumerable<(string Label, long Count)> counts) =>
        [.. counts.OrderBy(c => Array.IndexOf(Order, c.Label) is var at && at < 0 ? Order.Length : at)];
}
