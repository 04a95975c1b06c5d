using BatchOps.Engine.Store;

namespace BatchOps.Engine.Jobs;

/// <summary>
/// When a job that just ended is rolled back: one rule for a run in one process (the runner, from its run's
/// summary) and for a queued job ended by its workers (the store, from the stop its workers recorded).
/// </summary>
public static class RollbackRule
{
    /// <summary>
    /// Why the job must be rolled back, or null: only with OnFailure Rollback and something to undo, never
    /// after a stop its user asked for, and then when it was stopped by its error policy, a timeout or a
    /// fault, or when items failed or did not run.
    /// </summary>
    /// <param name="onFailure">The job's OnFailure setting as the run overrides it (null: Continue, the default).</param>
    /// <param name="canUndo">Whether any of the job's stages has an undo operation.</param>
    /// <param name="stop">Why the run stopped early, or <see cref="StopReason.None"/>.</param>
    /// <param name="counts">The job's item counts as the run left them.</param>
    public static string? Reason(FailureAction? onFailure, bool canUndo, StopReason stop, ItemCounts counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        if (onFailure != FailureAction.Rollback || !canUndo || stop == StopReason.Cancelled)
        {
            return null;
        }

        return stop switch
        {
            StopReason.ErrorPolicy => "the error policy stopped the job",
            StopReason.JobTimeout => "the job timed out",
            StopReason.Fault => "the run failed",
            _ when counts.Failed > 0 => $"{counts.Failed} item(s) failed",
            _ when counts.Unfinished > 0 => $"{counts.Unfinished} item(s) did not run",
            _ => null,
        };
    }
}
