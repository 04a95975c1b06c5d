using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;

namespace BatchOps.Engine.Tests.Support;

/// <summary>Shorthands for running the engine in tests.</summary>
public static class Run
{
    public static async Task<(JobSummary Summary, RecordingObserver<T, T> Observer)> ItemsAsync<T>(
        IEnumerable<T> values,
        Func<BatchItem<T>, CancellationToken, ValueTask<T>> operation,
        BatchOptions? options = null,
        BatchStopSource? stop = null,
        CancellationToken cancellationToken = default)
    {
        var observer = new RecordingObserver<T, T>();
        var summary = await BatchExecutor.RunAsync(values, BatchOperation<T, T>.PerItem((i, ct) => operation(i, ct)), options, observer, stop, cancellationToken);
        return (summary, observer);
    }

    public static async Task<(JobSummary Summary, RecordingObserver<T, T> Observer)> ChunksAsync<T>(
        IEnumerable<T> values,
        Func<IReadOnlyList<BatchItem<T>>, CancellationToken, ValueTask<IReadOnlyList<T>?>> operation,
        BatchOptions? options = null)
    {
        var observer = new RecordingObserver<T, T>();
        var summary = await BatchExecutor.RunAsync(values, BatchOperation<T, T>.PerChunk((i, ct) => operation(i, ct)), options, observer);
        return (summary, observer);
    }

    public static IEnumerable<int> Range(int count) => Enumerable.Range(0, count);
}
