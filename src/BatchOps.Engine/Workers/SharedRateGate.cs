using BatchOps.Engine.Execution;

namespace BatchOps.Engine.Workers;

/// <summary>
/// A job's rate limit held across every worker: each start takes the next slot from the database. The
/// starts waiting in one worker share a round trip: while one request is out, the ones arriving queue, and
/// the next request takes as many consecutive slots as there are waiters. One request per start capped a
/// worker at one start per round trip (at 10 ms a round trip, 100 starts/s), whatever the job's rate.
/// </summary>
internal sealed class SharedRateGate(IWorkQueue queue, string jobId, double perSecond, TimeProvider time) : IStartGate
{
    private readonly TimeSpan _interval = TimeSpan.FromTicks(Math.Max(1, (long)Math.Round(TimeSpan.TicksPerSecond / perSecond)));
    private readonly object _lock = new();
    private List<TaskCompletionSource<TimeSpan>> _waiting = [];
    private bool _asking;
    private int _requests;

    /// <summary>How many round trips the gate has made (fewer than its starts when they overlap).</summary>
    internal int Requests => Volatile.Read(ref _requests);

    public async ValueTask WaitAsync(CancellationToken cancellationToken)
    {
        var wait = await TakeSlotAsync(cancellationToken).ConfigureAwait(false);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Takes this caller's slot and returns how far ahead of now it lies (negative: already due).</summary>
    internal Task<TimeSpan> TakeSlotAsync(CancellationToken cancellationToken)
    {
        var slot = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        bool ask;
        lock (_lock)
        {
            _waiting.Add(slot);
            ask = !_asking;
            _asking = true;
        }

        if (ask)
        {
            _ = AskAsync();
        }

        // A caller that gives up leaves its slot unused, as a late one does; the request goes on for the others.
        return slot.Task.WaitAsync(cancellationToken);
    }

    private async Task AskAsync()
    {
        while (true)
        {
            List<TaskCompletionSource<TimeSpan>> batch;
            lock (_lock)
            {
                if (_waiting.Count == 0)
                {
                    _asking = false;
                    return;
                }

                batch = _waiting;
                _waiting = [];
            }

            Interlocked.Increment(ref _requests);
            try
            {
                var first = await queue.TakeRateSlotsAsync(jobId, _interval, batch.Count, CancellationToken.None).ConfigureAwait(false);
                for (var k = 0; k < batch.Count; k++)
                {
                    batch[k].TrySetResult(first + (_interval * k));
                }
            }
            catch (Exception error)
            {
                foreach (var slot in batch)
                {
                    slot.TrySetException(error);
                }
            }
        }
    }
}
