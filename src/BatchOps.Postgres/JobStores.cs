using BatchOps.Engine.Store;

namespace BatchOps.Postgres;

/// <summary>Opens the job store a front end was pointed at: PostgreSQL by reference, else the SQLite store in a folder.</summary>
public static class JobStores
{
    /// <summary>
    /// Opens the store <paramref name="reference"/> names (see <see cref="StoreReference"/>; null or a folder
    /// opens the SQLite store in <paramref name="folder"/>, or the default folder).
    /// </summary>
    public static IJobStore Open(string? reference, string? folder = null, TimeProvider? time = null) =>
        StoreReference.IsPostgres(reference)
            ? PostgresJobStore.Open(StoreReference.ToConnectionString(reference!), time)
            : SqliteJobStore.Open(reference ?? folder, time);
}
