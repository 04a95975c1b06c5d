#pragma warning disable IDE0130 // Users type the short namespace: [BatchOps.JobStatus].
namespace BatchOps;
#pragma warning restore IDE0130

/// <summary>Where a job stands; the same names and values as the engine's (see <see cref="ItemStatus"/> for why it is declared here).</summary>
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

    /// <summary>Stopped by the caller; resumable with Invoke-BatchJob -Id.</summary>
    Cancelled = 5,

    /// <summary>Marked Running, but its owner process is gone (found after a crash); resumable.</summary>
    Interrupted = 6,

    /// <summary>Rolled back: every item that had succeeded was undone.</summary>
    RolledBack = 7,

    /// <summary>Rolled back, but some undos failed; Undo-BatchJob retries them.</summary>
    RollbackFailed = 8,

    /// <summary>Queued for workers (Start-BatchWorker, batchops worker), none of which has started it yet.</summary>
    Queued = 9,

    /// <summary>
    /// Being created: its items are still being recorded. Get-BatchJob lists it only with -Status Creating;
    /// it cannot be run. One whose creator died holds part of its items and is removed the next time the
    /// store is opened (or by Remove-BatchJob).
    /// </summary>
    Creating = 10,
}
