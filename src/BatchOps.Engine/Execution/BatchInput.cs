using System.Runtime.CompilerServices;
using BatchOps.Engine.Jobs;

namespace BatchOps.Engine.Execution;

/// <summary>Turns plain sequences into the indexed item stream the engine reads lazily.</summary>
public static class BatchInput
{
    /// <summary>
    /// Numbers the values 0, 1, 2… as they are read (never all at once), with an optional key per value.
    /// </summary>
    public static async IAsyncEnumerable<BatchItem<T>> From<T>(IEnumerable<T> values, Func<T, string?>? keySelector = null)
    {
        ArgumentNullException.ThrowIfNull(values);
        long index = 0;
        foreach (var value in values)
        {
            yield return new BatchItem<T>(index++, value, keySelector?.Invoke(value));
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <summary>Numbers the values of an asynchronous sequence 0, 1, 2… as they arrive.</summary>
    public static async IAsyncEnumerable<BatchItem<T>> From<T>(
        IAsyncEnumerable<T> values,
        Func<T, string?>? keySelector = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        long index = 0;
        await foreach (var value in values.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            yield return new BatchItem<T>(index++, value, keySelector?.Invoke(value));
        }
    }

    /// <summary>Wraps already-indexed items (a stored job being resumed) as an asynchronous stream.</summary>
    public static async IAsyncEnumerable<BatchItem<T>> From<T>(IEnumerable<BatchItem<T>> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        foreach (var item in items)
        {
            yield return item;
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }
}
