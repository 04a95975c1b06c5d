using BatchOps.Engine.Execution;

namespace BatchOps.Engine.Workers;

/// <summary>
/// A job's rate limit held across every worker: each start takes the next slot from the database. A
/// worker asks for one slot at a time (its waiting items queue here, not on database connections).
/// </summary>
internal sealed class SharedRateGate(IWorkQueue queue, string jobId, double perSecond, TimeProvider time) : IStartGate
{
    private readonly SemaphoreSlim _one = new(1, 1);

    public async ValueTask WaitAsync(CancellationToken cancellationToken)
    {
        TimeSpan wait;
        await _one.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            wait = await queue.TakeRateSlotAsync(jobId, perSecond, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _one.Release();
        }

        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
        }
    }
}
