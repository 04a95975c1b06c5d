using BatchOps.Engine.Jobs;

namespace BatchOps.Engine.Store;

/// <summary>Computes <see cref="StoreStatistics"/> from job records, the same way for every store.</summary>
public static class StoreStatisticsBuilder
{
    private static readonly JobStatus[] Finished = [JobStatus.Completed, JobStatus.CompletedWithErrors, JobStatus.Failed, JobStatus.Cancelled];

    /// <summary>Totals over <paramref name="jobs"/>.</summary>
    public static StoreStatistics Build(IReadOnlyList<JobRecord> jobs)
    {
        var items = new ItemCounts();
        foreach (var job in jobs)
        {
            var c = job.Counts;
            items = items with
            {
                Pending = items.Pending + c.Pending,
                Running = items.Running + c.Running,
                Succeeded = items.Succeeded + c.Succeeded,
                Failed = items.Failed + c.Failed,
                Skipped = items.Skipped + c.Skipped,
                Cancelled = items.Cancelled + c.Cancelled,
            };
        }

        var finished = jobs.Where(j => Finished.Contains(j.Status) && j.Duration is not null).ToList();
        var runSeconds = finished.Sum(j => j.Duration!.Value.TotalSeconds);
        return new StoreStatistics
        {
            Jobs = jobs.Count,
            ByStatus = jobs.GroupBy(j => j.Status).ToDictionary(g => g.Key, g => (long)g.Count()),
            ByTag = jobs.SelectMany(j => j.Tags.Distinct(StringComparer.OrdinalIgnoreCase))
                .GroupBy(t => t, StringComparer.OrdinalIgnoreCase)
                .ToDictionary(g => g.Key, g => (long)g.Count(), StringComparer.OrdinalIgnoreCase),
            Items = items,
            Active = jobs.Where(j => j.Status == JobStatus.Running).ToList(),
            Recent = jobs.OrderByDescending(j => j.CreatedAt).Take(10).ToList(),
            AverageDuration = finished.Count > 0 ? TimeSpan.FromSeconds(runSeconds / finished.Count) : null,
            ItemsPerSecond = runSeconds > 0 ? finished.Sum(j => j.Counts.Succeeded + j.Counts.Failed) / runSeconds : null,
        };
    }
}
