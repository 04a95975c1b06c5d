namespace BatchOps.Engine.Jobs;

/// <summary>
/// Where one item stands. An item ends as Succeeded, Failed, Skipped or Cancelled; a rollback then turns a
/// Succeeded item into Compensated or CompensationFailed.
/// </summary>
public enum ItemStatus
{
    /// <summary>Recorded but not yet run (or reset for a retry).</summary>
    Pending = 0,

    /// <summary>Handed to a worker; seen in a store only while a job runs or after a crash.</summary>
    Running = 1,

    /// <summary>The operation completed without an error.</summary>
    Succeeded = 2,

    /// <summary>The operation failed on its last attempt; the error is kept with the item.</summary>
    Failed = 3,

    /// <summary>Never started because the job stopped first (StopOnError, MaxErrors or a fault).</summary>
    Skipped = 4,

    /// <summary>Cancelled by the caller: never started, or its running attempt was cancelled.</summary>
    Cancelled = 5,

    /// <summary>Succeeded, then undone by the job's undo operation (a rollback or Undo-BatchJob).</summary>
    Compensated = 6,

    /// <summary>Succeeded, then its undo operation failed on its last attempt; the undo's error is kept.</summary>
    CompensationFailed = 7,
}
