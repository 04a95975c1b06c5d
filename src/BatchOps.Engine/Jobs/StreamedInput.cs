using System.Runtime.CompilerServices;
using BatchOps.Engine.Execution;

namespace BatchOps.Engine.Jobs;

/// <summary>
/// Input that arrives as a stream (a PowerShell pipeline), read through one enumerator: the engine reads
/// it first, and when the run stops early the rest is read from where the engine left off, numbered on.
/// A stop while the engine waits for the next value leaves that read pending for <see cref="RestAsync"/>,
/// so no value is lost or read twice.
/// </summary>
internal sealed class StreamedInput<T>(IAsyncEnumerable<T> values, Func<T, string?>? keySelector, CancellationToken cancellationToken) : IAsyncDisposable
{
    private readonly IAsyncEnumerator<T> _source = values.GetAsyncEnumerator(cancellationToken);
    private Task<bool>? _pendingMove;
    private long _next;

    /// <summary>Whether the source said it has no more values (as far as the source knows: a front end may have closed it early).</summary>
    public bool Ended { get; private set; }

    /// <summary>The values numbered 0, 1, 2… for the engine; ends early when <paramref name="stop"/> fires.</summary>
    public async IAsyncEnumerable<BatchItem<T>> ItemsAsync([EnumeratorCancellation] CancellationToken stop = default)
    {
        while (await MoveNextAsync(stop).ConfigureAwait(false))
        {
            var value = _source.Current;
            yield return new BatchItem<T>(_next++, value, keySelector?.Invoke(value));
        }
    }

    /// <summary>What the engine did not read, numbered on from where it stopped.</summary>
    public async IAsyncEnumerable<BatchItem<T>> RestAsync()
    {
        while (await MoveNextAsync(CancellationToken.None).ConfigureAwait(false))
        {
            var value = _source.Current;
            yield return new BatchItem<T>(_next++, value, keySelector?.Invoke(value));
        }
    }

    public ValueTask DisposeAsync() => _source.DisposeAsync();

    private async ValueTask<bool> MoveNextAsync(CancellationToken stop)
    {
        if (_pendingMove is null)
        {
            var move = _source.MoveNextAsync();
            if (move.IsCompleted)
            {
                Ended |= !move.Result;
                return move.Result;
            }

            _pendingMove = move.AsTask();
        }

        // A stop abandons the wait, not the read: the pending read is finished by the next caller.
        var moved = await _pendingMove.WaitAsync(stop).ConfigureAwait(false);
        _pendingMove = null;
        Ended |= !moved;
        return moved;
    }
}
