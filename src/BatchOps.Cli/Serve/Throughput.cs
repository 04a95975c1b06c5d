using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;

namespace BatchOps.Cli.Serve;

/// <summary>
/// A job's items per second over time, from the end times its items recorded: every item of a job of up to
/// <see cref="MaxRead"/> items, an evenly spread sample of a larger one (each sampled item standing for the
/// ones between), in <see cref="Buckets"/> slices from the first end to the last.
/// </summary>
internal static class Throughput
{
    public const int MaxRead = 20_000;

    public const int Buckets = 60;

    /// <summary>The chart's points (seconds from the first end, items per second) and whether they come from a sample.</summary>
    public sealed record Chart(IReadOnlyList<Point> Points, bool Sampled, long Items, double BucketSeconds = 0);

    public sealed record Point(double T, double Rate);

    public static async Task<Chart> ReadAsync(IJobStore store, JobRecord job, CancellationToken cancellationToken)
    {
        var total = job.Counts.Total;
        if (total == 0 || job.Status is JobStatus.Running or JobStatus.Queued or JobStatus.Creating)
        {
            return new Chart([], false, 0);
        }

        var stride = (total + MaxRead - 1) / MaxRead;
        var query = stride == 1 ? ItemQuery.All : new ItemQuery { Indexes = [.. Enumerable.Range(0, (int)((total + stride - 1) / stride)).Select(i => i * stride)] };
        var ends = new List<DateTimeOffset>();
        await foreach (var item in store.GetItemsAsync(job.Id, query, cancellationToken).ConfigureAwait(false))
        {
            if (item.Status is ItemStatus.Succeeded or ItemStatus.Failed or ItemStatus.Compensated or ItemStatus.CompensationFailed && item.EndedAt is { } ended)
            {
                ends.Add(ended);
            }
        }

        if (ends.Count < 2)
        {
            return new Chart([], stride > 1, ends.Count * stride);
        }

        ends.Sort();
        var first = ends[0];
        var span = Math.Max((ends[^1] - first).TotalSeconds, 0.001);
        var width = span / Buckets;
        var counts = new long[Buckets];
        foreach (var end in ends)
        {
            counts[Math.Min(Buckets - 1, (int)((end - first).TotalSeconds / width))] += stride;
        }

        return new Chart([.. counts.Select((n, i) => new Point((i + 0.5) * width, n / width))], stride > 1, ends.Count * stride, width);
    }
}
