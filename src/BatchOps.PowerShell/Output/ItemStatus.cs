#pragma warning disable IDE0130 // Users type the short namespace: [BatchOps.ItemStatus].
namespace BatchOps;
#pragma warning restore IDE0130

/// <summary>
/// Where one item stands. An item ends Succeeded, Failed, Skipped or Cancelled. The same names and values
/// as the engine's, declared here so that PowerShell resolves [BatchOps.ItemStatus] (the engine lives in
/// the module's private load context, which type names typed in a session never reach).
/// </summary>
public enum ItemStatus
{
    /// <summary>Recorded but not yet run (or reset for a retry).</summary>
    Pending = 0,

    /// <summary>Handed to a worker; seen only while a job runs, or after a crash.</summary>
    Running = 1,

    /// <summary>The script block completed without an error.</summary>
    Succeeded = 2,

    /// <summary>The last attempt failed; the error is kept with the item.</summary>
    Failed = 3,

    /// <summary>Never started because the job stopped first (StopOnError, MaxErrors, job timeout).</summary>
    Skipped = 4,

    /// <summary>Cancelled by the caller (Ctrl+C, Stop-BatchJob): never started, or its attempt was cancelled.</summary>
    Cancelled = 5,

    /// <summary>Succeeded, then undone by the job's undo script block (-OnFailure Rollback or Undo-BatchJob).</summary>
    Compensated = 6,

    /// <summary>Succeeded, then its undo script block failed; the undo's error is kept.</summary>
    CompensationFailed = 7,
}
