namespace BatchOps.Engine.Jobs;

/// <summary>Where a job stands.</summary>
public enum JobStatus
{
    /// <summary>Created and stored but never run.</summary>
    Pending = 0,

    /// <summary>Running now under a live lease.</summary>
    Running = 1,

    /// <summary>Every item succeeded.</summary>
    Completed = 2,

    /// <summary>Every item ran; some failed.</summary>
    CompletedWithErrors = 3,

    /// <summary>Stopped by the error policy, a job timeout or a fault, or every item failed.</summary>
    Failed = 4,

    /// <summary>Stopped by the caller; resumable.</summary>
    Cancelled = 5,

    /// <summary>Marked Running, but its owner process is gone (found after a crash); resumable.</summary>
    Interrupted = 6,

    /// <summary>Rolled back: every item that had succeeded was compensated by the undo operation.</summary>
    RolledBack = 7,

    /// <summary>Rolled back, but some compensations failed; running the undo again retries them.</summary>
    RollbackFailed = 8,

    /// <summary>Queued for workers (batchops worker, Start-BatchWorker), none of which has started it yet.</summary>
    Queued = 9,

    /// <summary>
    /// Being created: its items are still being recorded. Left out of lists, statistics and the dashboard,
    /// refused by resume and workers, and never Cancelled: a job is there whole or not at all. One whose
    /// creator died (a kill, a full disk) holds part of its items and is removed when the store is next
    /// opened, or by Remove-BatchJob / batchops remove.
    /// </summary>
    Creating = 10,
}
