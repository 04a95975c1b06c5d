using BatchOps.Engine.Jobs;

namespace BatchOps.Engine.Store;

/// <summary>One stage of a job with its item counts and where it stands, for show, Get-BatchJob and exports.</summary>
/// <param name="Stage">The stage as planned.</param>
/// <param name="Counts">Its items by status.</param>
public sealed record StageSummary(JobStage Stage, ItemCounts Counts)
{
    /// <summary>
    /// Where the stage stands, from its items: Completed, CompletedWithErrors, Skipped (a dependency did
    /// not complete), RolledBack, Pending (nothing ran yet) or Unfinished.
    /// </summary>
    public string Status => Counts switch
    {
        { Total: 0 } or { Pending: > 0, Succeeded: 0, Failed: 0, Skipped: 0, Compensated: 0, CompensationFailed: 0 } => "Pending",
        { Compensated: > 0 } or { CompensationFailed: > 0 } => Counts.CompensationFailed > 0 ? "RollbackFailed" : "RolledBack",
        { Skipped: var s } when s == Counts.Total => "Skipped",
        { Unfinished: > 0 } => "Unfinished",
        { Failed: 0 } => "Completed",
        _ => "CompletedWithErrors",
    };

    /// <summary>The stages of a job with their counts (read from its items), in the order they run; empty for a job without stages.</summary>
    public static async Task<IReadOnlyList<StageSummary>> ReadAsync(IJobStore store, JobRecord job, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(job);
        if (job.Stages is null)
        {
            return [];
        }

        var summaries = new List<StageSummary>();
        foreach (var stage in StageOrder.Sort(job.Stages))
        {
            var counts = new ItemCounts();
            await foreach (var item in store.GetItemsAsync(job.Id, ItemQuery.All.Within(stage), cancellationToken).ConfigureAwait(false))
            {
                counts = counts.With(item.Status, 1);
            }

            summaries.Add(new StageSummary(stage, counts));
        }

        return summaries;
    }
}
