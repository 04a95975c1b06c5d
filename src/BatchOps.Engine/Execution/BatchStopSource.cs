namespace BatchOps.Engine.Execution;

/// <summary>
/// Lets a caller stop a run from any thread: gracefully (running items finish) or forced (running attempts
/// are cancelled). A stopped run ends Cancelled and keeps every recorded outcome, so it can be resumed.
/// </summary>
public sealed class BatchStopSource : IDisposable
{
    private readonly CancellationTokenSource _graceful = new();
    private readonly CancellationTokenSource _forced = new();

    /// <summary>Fires on any stop request.</summary>
    public CancellationToken StopRequested => _graceful.Token;

    /// <summary>Fires on a forced stop request.</summary>
    public CancellationToken ForceRequested => _forced.Token;

    /// <summary>Whether a stop was requested.</summary>
    public bool IsStopRequested => _graceful.IsCancellationRequested;

    /// <summary>Asks the run to stop. A forced request after a graceful one escalates it.</summary>
    public void Stop(StopMode mode = StopMode.Graceful)
    {
        _graceful.Cancel();
        if (mode == StopMode.Forced)
        {
            _forced.Cancel();
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _graceful.Dispose();
        _forced.Dispose();
    }
}
