using System.Threading.Channels;

namespace BatchOps.Engine.Hosting;

/// <summary>
/// Carries pipeline input (ProcessRecord) to the engine as a lazy stream with a bounded buffer. When the
/// buffer is full, <see cref="Add"/> waits on the pipeline thread while still draining the pump, so
/// results keep flowing out and neither side can block the other.
/// </summary>
public sealed class PipelineInput<T>
{
    private readonly Channel<T> _channel;

    /// <summary>Creates the bridge; <paramref name="capacity"/> bounds the items waiting for the engine.</summary>
    public PipelineInput(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _channel = Channel.CreateBounded<T>(new BoundedChannelOptions(capacity) { SingleWriter = true, SingleReader = true });
    }

    /// <summary>The stream the engine reads.</summary>
    public IAsyncEnumerable<T> Items => _channel.Reader.ReadAllAsync();

    /// <summary>Hands one item over; while the buffer is full, writes pump messages with <paramref name="write"/>.</summary>
    /// <returns>False when the input was closed (the run stopped) and the item was not taken.</returns>
    public bool Add(T item, PipelinePump pump, Action<PumpMessage> write, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pump);
        while (!_channel.Writer.TryWrite(item))
        {
            var space = _channel.Writer.WaitToWriteAsync(cancellationToken).AsTask();
            while (!space.IsCompleted)
            {
                pump.Drain(write);
                pump.Wait(((IAsyncResult)space).AsyncWaitHandle, TimeSpan.FromMilliseconds(250));
            }

            if (space.IsCanceled || space.IsFaulted || !space.Result)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Marks the end of the input (EndProcessing).</summary>
    public void Complete() => _channel.Writer.TryComplete();
}
