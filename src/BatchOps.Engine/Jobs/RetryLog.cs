using System.Collections.Concurrent;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Store;

namespace BatchOps.Engine.Jobs;

/// <summary>
/// The retried attempts of a run's items, held from the retry until the item's outcome is checkpointed, which
/// writes them with it (Get-BatchItem -History shows them). Only per-item retries: a chunk segment retried as a
/// whole belongs to no one item.
/// </summary>
internal sealed class RetryLog(OutputKeeping keep = OutputKeeping.All)
{
    private readonly ConcurrentDictionary<long, List<ItemRetry>> _pending = new();

    public void Add(RetryNotice notice)
    {
        if (notice.Count != 1)
        {
            return;
        }

        var retries = _pending.GetOrAdd(notice.Index, _ => []);
        lock (retries)
        {
            retries.Add(new ItemRetry(0, notice.Attempt, notice.Error.Type, notice.StatusCode, notice.Error.Message, notice.Delay, notice.At));
        }
    }

    /// <summary>
    /// The outcomes a chunk's results checkpoint as, each with the retries it had; outputs only when the job
    /// keeps them (<see cref="OutputKeeping"/>: failed items carry none, so only All keeps any).
    /// </summary>
    public ItemOutcome[] Outcomes<TIn, TOut>(IReadOnlyList<ItemResult<TIn, TOut>> results, IPayloadCodec<TOut> outputCodec)
    {
        var outcomes = new ItemOutcome[results.Count];
        for (var i = 0; i < outcomes.Length; i++)
        {
            var r = results[i];
            var output = keep == OutputKeeping.All && r.Status == ItemStatus.Succeeded && r.Output is not null ? outputCodec.Serialize(r.Output) : null;
            outcomes[i] = new ItemOutcome(r.Index, r.Status, r.Attempts, output, r.Error, r.StartedAt, r.EndedAt, r.Duration)
            {
                Retries = _pending.IsEmpty ? null : _pending.TryRemove(r.Index, out var retries) ? retries : null,
            };
        }

        return outcomes;
    }
}
