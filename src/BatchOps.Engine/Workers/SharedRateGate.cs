using BatchOps.Engine.Execution;

namespace BatchOps.Engine.Workers;

/// <summary>A job's rate limit held across every worker: each start takes the next slot from the database.</summary>
internal sealed class SharedRateGate(IWorkQueue queue, string jobId, double perSecond, TimeProvider time) : IStartGate
{
    public async ValueTask WaitAsync(CancellationToken cancellationToken)
    {
        var wait = await queue.TakeRateSlotAsync(jobId, perSecond, cancellationToken).ConfigureAwait(false);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
        }
    }
}
