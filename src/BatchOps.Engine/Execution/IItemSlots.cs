namespace BatchOps.Engine.Execution;

/// <summary>
/// Places for running items shared by several runs: an item holds one from before its first attempt until
/// its outcome (retries and their waits included), so the runs together keep no more items running than the
/// slots allow. A worker runs a job's next chunk beside the last items of the one before this way, within the
/// job's ThrottleLimit.
/// </summary>
internal interface IItemSlots
{
    /// <summary>Waits for a free slot and takes it.</summary>
    ValueTask EnterAsync(CancellationToken cancellationToken);

    /// <summary>Gives back a slot taken by <see cref="EnterAsync"/>.</summary>
    void Exit();
}
