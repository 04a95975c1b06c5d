namespace BatchOps.Engine.Execution;

/// <summary>Decides when an operation attempt may start: a rate limit, local or shared between processes.</summary>
public interface IStartGate
{
    /// <summary>Waits for this caller's turn to start one attempt.</summary>
    ValueTask WaitAsync(CancellationToken cancellationToken);
}
