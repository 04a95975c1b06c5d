using System.Reflection;
using BatchOps.Engine.Store;

namespace BatchOps.Cli.Tests.Support;

/// <summary>
/// A real job store seen through a window: every call goes to the store as is, and the items it streams
/// out of GetItemsAsync are counted, so a test can see how far a reader has got (for example, that an
/// export is streamed rather than read whole before the first byte is sent).
/// </summary>
public class ItemReadCounter : DispatchProxy
{
    private IJobStore _inner = null!;
    private long _read;

    /// <summary>Items streamed so far.</summary>
    public long Read => Interlocked.Read(ref _read);

    public static (IJobStore Store, ItemReadCounter Counter) Over(IJobStore inner)
    {
        var store = Create<IJobStore, ItemReadCounter>();
        var counter = (ItemReadCounter)(object)store;
        counter._inner = inner;
        return (store, counter);
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        try
        {
            var result = targetMethod!.Invoke(_inner, args);
            return targetMethod.Name == nameof(IJobStore.GetItemsAsync) ? Count((IAsyncEnumerable<StoredItem>)result!) : result;
        }
        catch (TargetInvocationException error) when (error.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error.InnerException);
            throw;
        }
    }

    private async IAsyncEnumerable<StoredItem> Count(IAsyncEnumerable<StoredItem> items)
    {
        await foreach (var item in items.ConfigureAwait(false))
        {
            Interlocked.Increment(ref _read);
            yield return item;
        }
    }
}
