namespace BatchOps.PowerShell.Background;

/// <summary>
/// The work behind a <see cref="BatchBackgroundJob"/>. An interface of this assembly, so the public job
/// type holds nothing of the engine (PowerShell loads public types before the engine's context exists).
/// </summary>
internal interface IBackgroundRun : IDisposable
{
    /// <summary>Starts the run on its own thread; it reports to <paramref name="job"/>'s streams and state.</summary>
    void Start(BatchBackgroundJob job);

    /// <summary>Asks the run to stop: gracefully, or cancelling running items when <paramref name="force"/> is set.</summary>
    void Stop(bool force);
}
