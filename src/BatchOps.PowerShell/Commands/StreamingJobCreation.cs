using System.Collections.Concurrent;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using BatchOps.PowerShell.Scripting;

namespace BatchOps.PowerShell.Commands;

/// <summary>
/// Creates a job from pipeline input as it arrives (New-BatchJob, Invoke-BatchJob -AsJob): a background task
/// serializes and stores the items a thousand per transaction while the pipeline thread hands them over.
/// </summary>
internal sealed class StreamingJobCreation : IDisposable
{
    private readonly BlockingCollection<KeyedInput> _items = new(boundedCapacity: 1000);
    private readonly CancellationTokenSource _cancel = new();
    private readonly Task<JobRecord> _creating;

    /// <param name="runner">Creates the job.</param>
    /// <param name="definition">The job to create.</param>
    /// <param name="initialOutcomes">Items recorded Failed at creation (-InvalidItems Fail): read once the input has ended, so it may fill while items arrive.</param>
    public StreamingJobCreation(JobRunner runner, JobDefinition definition, IReadOnlyList<ItemOutcome>? initialOutcomes = null)
    {
        var items = _items;
        var cancel = _cancel.Token;
        _creating = Task.Run(() => runner.CreateAsync(definition, items.GetConsumingEnumerable(cancel), KeyedInput.Codec, CliXmlCodec.Instance.Format, item => item.Key, cancel, initialOutcomes));
    }

    /// <summary>Hands one item over; throws the store's error if the writer stopped.</summary>
    public void Add(KeyedInput input)
    {
        while (!_items.TryAdd(input, 200, _cancel.Token))
        {
            // The writer stopped (a store error): surface its error instead of waiting for ever.
            if (_creating.IsCompleted)
            {
                _creating.GetAwaiter().GetResult();
                throw new StoreException("The job's items could not be stored.");
            }
        }
    }

    /// <summary>Ends the input and returns the created job, or throws the store's error.</summary>
    public JobRecord Complete()
    {
        _items.CompleteAdding();
        return _creating.GetAwaiter().GetResult();
    }

    /// <summary>Ctrl+C: stops storing items.</summary>
    public void Cancel() => _cancel.Cancel();

    /// <summary>
    /// Stops storing items if the input did not end (Ctrl+C, an error upstream) and waits for the writer: a
    /// creation cut short removes what it recorded before the command returns, so no Creating job lingers.
    /// </summary>
    public void Dispose()
    {
        _cancel.Cancel();
        try
        {
            _creating.Wait(TimeSpan.FromSeconds(30));
        }
        catch (AggregateException)
        {
            // Cancelled or failed: its error was reported by Complete, or nobody asked (a stop).
        }

        _items.Dispose();
        _cancel.Dispose();
    }
}
