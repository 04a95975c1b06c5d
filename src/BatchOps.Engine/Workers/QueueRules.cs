using BatchOps.Engine.Jobs;

namespace BatchOps.Engine.Workers;

/// <summary>Which jobs workers can run: the one rule submit, -Queue and the store's enqueue all apply.</summary>
public static class QueueRules
{
    /// <summary>Why a job cannot be queued for workers, naming <paramref name="what"/> and the way out; null when it can.</summary>
    public static string? Refusal(string what, JobSettings settings, bool rollingBack = false)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return rollingBack || settings.OnFailure == FailureAction.Rollback
            ? $"{what} rolls back on failure, which workers do not do yet: run it with 'batchops run' / Invoke-BatchJob instead of queueing it."
            : null;
    }
}
