using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using Microsoft.Data.Sqlite;

namespace BatchOps.Engine.Tests.Support;

/// <summary>A SQLite job store in a temp folder with a runner over it (logs beside it), and reads of what it holds.</summary>
public abstract class StoreTest : IDisposable
{
    protected StoreTest()
    {
        Store = SqliteJobStore.Open(Folder.Path);
        Runner = new JobRunner(Store, Folder.File("logs"));
    }

    protected TempFolder Folder { get; } = new();

    protected SqliteJobStore Store { get; }

    protected JobRunner Runner { get; }

    public void Dispose()
    {
        Store.Dispose();
        SqliteConnection.ClearAllPools();
        Folder.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Every item the query matches, read through the store's contract.</summary>
    protected async Task<List<StoredItem>> ItemsAsync(string jobId, ItemQuery? query = null)
    {
        var items = new List<StoredItem>();
        await foreach (var item in Store.GetItemsAsync(jobId, query ?? ItemQuery.All))
        {
            items.Add(item);
        }

        return items;
    }

    /// <summary>One number from the store's file, read on a connection of its own (what is on disk).</summary>
    protected long Scalar(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={Folder.File(StoreLocation.DatabaseFileName)};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (long)command.ExecuteScalar()!;
    }
}
