using BatchOps.Engine.Store;
using BatchOps.Postgres;

namespace BatchOps.PowerShell.Commands;

/// <summary>
/// The store a command was pointed at (-Store, else $env:BATCHOPS_STORE, else the default folder): a
/// PostgreSQL database by reference, or a folder holding the SQLite store. Logs and settings always live
/// in a folder on this machine: the given one, or the default one for a PostgreSQL store.
/// </summary>
internal sealed record StoreTarget(string? Reference, string Folder)
{
    /// <summary>Opens the store; throws <see cref="StoreException"/> with the fix when it cannot be used.</summary>
    public IJobStore Open() => JobStores.Open(Reference, Folder);

    /// <summary>What the store passed to a child batchops (the dashboard) as --store: the reference, or the folder.</summary>
    public string ForCommandLine => Reference ?? Folder;

    /// <summary>Reads -Store; a folder is resolved against the session's location by <paramref name="resolvePath"/>.</summary>
    public static StoreTarget From(string? store, Func<string, string> resolvePath)
    {
        var effective = StoreReference.Effective(store);
        return StoreReference.IsPostgres(effective)
            ? new StoreTarget(effective, StoreLocation.ResolveFolder())
            : new StoreTarget(null, StoreLocation.ResolveFolder(effective is null ? null : resolvePath(effective)));
    }
}
