using System.Data.Common;
using BatchOps.Engine.Execution;

namespace BatchOps.Sql;

/// <summary>What one chunk's statements did: an output per row, the rows changed, and the rows saved for backup.</summary>
internal sealed record AppliedRows(string[] Outputs, long Affected, IReadOnlyList<string> BackupRows);

/// <summary>
/// One database provider: opens connections, reads the table once, and applies a chunk's rows inside a
/// transaction it is given. The marker table (<see cref="Markers"/>) records, in the same transaction,
/// which item indexes a job has applied, so a chunk replayed after a crash is never applied twice.
/// </summary>
internal abstract class SqlWriter : IAsyncDisposable
{
    protected SqlWriter(TableSchema schema, SqlMode mode, IReadOnlyList<TableColumn> key, IReadOnlyList<TableColumn>? updateColumns)
    {
        Schema = schema;
        Mode = mode;
        Key = key;
        UpdateColumns = updateColumns;
    }

    public TableSchema Schema { get; }

    public SqlMode Mode { get; }

    public IReadOnlyList<TableColumn> Key { get; }

    /// <summary>Upsert: the columns an existing row takes; null for every written column but the key.</summary>
    public IReadOnlyList<TableColumn>? UpdateColumns { get; }

    /// <summary>The marker table, quoted, beside the target table.</summary>
    public abstract string Markers { get; }

    public abstract ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken);

    public abstract ValueTask<DbTransaction> BeginAsync(DbConnection connection, CancellationToken cancellationToken);

    /// <summary>Creates the marker table when missing.</summary>
    public abstract Task EnsureMarkersAsync(DbConnection connection, CancellationToken cancellationToken);

    /// <summary>Whether the marker table exists (a dry run creates nothing).</summary>
    public abstract Task<bool> MarkersExistAsync(DbConnection connection, CancellationToken cancellationToken);

    /// <summary>Runs the mode's statements for the rows; <paramref name="backup"/> asks for the current rows first.</summary>
    public abstract Task<AppliedRows> ApplyAsync(DbConnection connection, DbTransaction transaction, ChunkRows rows, bool backup, CancellationToken cancellationToken);

    /// <summary>Turns a database error into an item error: constraint and data errors are not retried, lost connections and lock timeouts are.</summary>
    public abstract BatchOperationException Describe(DbException error);

    public abstract ValueTask DisposeAsync();

    /// <summary>The columns an upsert or update sets on an existing row.</summary>
    protected IEnumerable<TableColumn> SetColumns(ChunkRows rows) =>
        rows.Columns.Where(c => !Key.Contains(c) && (UpdateColumns is null || UpdateColumns.Contains(c)));
}
