using System.Data.Common;
using BatchOps.Engine.Execution;
using Microsoft.Data.Sqlite;

namespace BatchOps.Sql;

/// <summary>
/// SQLite through Microsoft.Data.Sqlite: prepared statements in one IMMEDIATE transaction per chunk;
/// upsert with ON CONFLICT. Chunks of parallel workers take turns on the database's write lock.
/// </summary>
internal sealed class SqliteWriter : SqlWriter
{
    private readonly string _connectionString;

    private SqliteWriter(string connectionString, TableSchema schema, SqlMode mode, IReadOnlyList<TableColumn> key, IReadOnlyList<TableColumn>? updateColumns)
        : base(schema, mode, key, updateColumns)
    {
        _connectionString = connectionString;
    }

    public override string Markers => "batchops_applied";

    public static async Task<SqliteWriter> OpenAsync(string connectionString, string table, SqlMode mode, Func<TableSchema, (IReadOnlyList<TableColumn> Key, IReadOnlyList<TableColumn>? Update)> configure, string where, CancellationToken cancellationToken)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString);
        if (!connectionString.Contains("mode", StringComparison.OrdinalIgnoreCase))
        {
            // A mistyped path must not create an empty database.
            builder.Mode = SqliteOpenMode.ReadWrite;
        }

        builder.Pooling = true;
        try
        {
            await using var connection = new SqliteConnection(builder.ConnectionString);
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            var schema = await ReadSchemaAsync(connection, table, where, cancellationToken).ConfigureAwait(false);
            var (key, update) = configure(schema);
            return new SqliteWriter(builder.ConnectionString, schema, mode, key, update);
        }
        catch (SqliteException error)
        {
            throw new SqlSpecException($"{where}: cannot open the SQLite database '{builder.DataSource}': {error.Message}", error);
        }
    }

    public override async ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        return connection;
    }

    public override ValueTask<DbTransaction> BeginAsync(DbConnection connection, CancellationToken cancellationToken) =>
        ValueTask.FromResult<DbTransaction>(((SqliteConnection)connection).BeginTransaction(deferred: false));

    public override async Task EnsureMarkersAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await using var command = ((SqliteConnection)connection).CreateCommand();
        command.CommandText = $"CREATE TABLE IF NOT EXISTS {Markers} (job_id TEXT NOT NULL, first_index INTEGER NOT NULL, last_index INTEGER NOT NULL, affected INTEGER NOT NULL, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP, PRIMARY KEY (job_id, first_index))";
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public override async Task<bool> MarkersExistAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await using var command = ((SqliteConnection)connection).CreateCommand();
        command.CommandText = $"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '{Markers}'";
        return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))! > 0;
    }

    public override async Task<AppliedRows> ApplyAsync(DbConnection connection, DbTransaction transaction, ChunkRows rows, bool backup, CancellationToken cancellationToken)
    {
        var sqlite = (SqliteConnection)connection;
        var outputs = new string[rows.Count];
        var backupRows = new List<string>();
        var keyWhere = string.Join(" AND ", Key.Select((k, i) => $"{TableSchema.Quote(k.Name)} = @k{i}"));
        var keySlots = Key.Select(k => IndexOf(rows.Columns, k)).ToArray();
        using var change = Prepare(sqlite, transaction, ChangeStatement(rows), Mode == SqlMode.Delete ? 0 : rows.Columns.Count, Mode == SqlMode.Insert ? 0 : Key.Count);
        using var select = backup || Mode == SqlMode.Upsert
            ? Prepare(sqlite, transaction, $"SELECT {RowJson()} FROM {Schema.QuotedName} WHERE {keyWhere}", 0, Key.Count)
            : null;
        long affected = 0;
        var values = new object?[rows.Columns.Count];
        int[] valueSlots = Mode == SqlMode.Delete ? [] : [.. Enumerable.Range(0, values.Length)];
        int[] whereSlots = Mode == SqlMode.Insert ? [] : keySlots;
        for (var r = 0; r < rows.Count; r++)
        {
            rows.Read(r, values);
            var exists = false;
            if (select is not null)
            {
                Bind(select, values, [], keySlots);
                await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    exists = true;
                    if (backup)
                    {
                        backupRows.Add(reader.GetString(0));
                    }
                }
            }

            Bind(change, values, valueSlots, whereSlots);
            var changed = await change.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            affected += changed;
            outputs[r] = Mode switch
            {
                SqlMode.Insert => "inserted",
                SqlMode.Upsert => exists ? (changed == 0 ? "unchanged" : "updated") : "inserted",
                SqlMode.Update => changed > 0 ? "updated" : "not found",
                _ => changed > 0 ? "deleted" : "not found",
            };
        }

        return new AppliedRows(outputs, affected, backupRows);
    }

    public override BatchOperationException Describe(DbException error)
    {
        var code = error is SqliteException sqlite ? sqlite.SqliteErrorCode : 0;
        // SQLITE_BUSY (5) and SQLITE_LOCKED (6) heal with time; constraint, type and schema errors do not.
        return new BatchOperationException(error.Message, isRetryable: code is 5 or 6 or 10, innerException: error);
    }

    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private string ChangeStatement(ChunkRows rows)
    {
        var columns = string.Join(", ", rows.Columns.Select(c => TableSchema.Quote(c.Name)));
        var values = string.Join(", ", rows.Columns.Select((_, i) => $"@v{i}"));
        var keyWhere = string.Join(" AND ", Key.Select((k, i) => $"{TableSchema.Quote(k.Name)} = @k{i}"));
        var set = SetColumns(rows).Select(c => $"{TableSchema.Quote(c.Name)} = @v{IndexOf(rows.Columns, c)}").ToList();
        switch (Mode)
        {
            case SqlMode.Insert:
                return $"INSERT INTO {Schema.QuotedName} ({columns}) VALUES ({values})";
            case SqlMode.Upsert:
                var keys = string.Join(", ", Key.Select(k => TableSchema.Quote(k.Name)));
                var excluded = SetColumns(rows).Select(c => $"{TableSchema.Quote(c.Name)} = excluded.{TableSchema.Quote(c.Name)}").ToList();
                return $"INSERT INTO {Schema.QuotedName} ({columns}) VALUES ({values}) ON CONFLICT ({keys}) {(excluded.Count == 0 ? "DO NOTHING" : $"DO UPDATE SET {string.Join(", ", excluded)}")}";
            case SqlMode.Update:
                return $"UPDATE {Schema.QuotedName} SET {string.Join(", ", set)} WHERE {keyWhere}";
            default:
                return $"DELETE FROM {Schema.QuotedName} WHERE {keyWhere}";
        }
    }

    private string RowJson() =>
        $"json_object({string.Join(", ", Schema.Columns.Select(c => $"'{c.Name.Replace("'", "''", StringComparison.Ordinal)}', {TableSchema.Quote(c.Name)}"))})";

    private static int IndexOf(IReadOnlyList<TableColumn> columns, TableColumn column)
    {
        for (var i = 0; i < columns.Count; i++)
        {
            if (ReferenceEquals(columns[i], column))
            {
                return i;
            }
        }

        return -1;
    }

    private static SqliteCommand Prepare(SqliteConnection connection, DbTransaction transaction, string sql, int values, int keys)
    {
        var command = connection.CreateCommand();
        command.Transaction = (SqliteTransaction)transaction;
#pragma warning disable CA2100 // identifiers are quoted; values are parameters
        command.CommandText = sql;
#pragma warning restore CA2100
        for (var i = 0; i < values; i++)
        {
            command.Parameters.Add(new SqliteParameter($"@v{i}", null));
        }

        for (var i = 0; i < keys; i++)
        {
            command.Parameters.Add(new SqliteParameter($"@k{i}", null));
        }

        command.Prepare();
        return command;
    }

    private static void Bind(SqliteCommand command, object?[] row, int[] valueSlots, int[] keySlots)
    {
        var p = 0;
        foreach (var slot in valueSlots)
        {
            command.Parameters[p++].Value = Sqlite(row[slot]);
        }

        foreach (var slot in keySlots)
        {
            command.Parameters[p++].Value = Sqlite(row[slot]);
        }
    }

    private static object Sqlite(object? value) => value switch
    {
        null => DBNull.Value,
        bool b => b ? 1L : 0L,
        _ => value,
    };

    private static async Task<TableSchema> ReadSchemaAsync(SqliteConnection connection, string table, string where, CancellationToken cancellationToken)
    {
        var quoted = string.Join(".", table.Split('.').Select(TableSchema.Quote));
        var columns = new List<(TableColumn Column, long Pk)>();
        await using (var info = connection.CreateCommand())
        {
            info.CommandText = $"PRAGMA table_info({quoted})";
            await using var reader = await info.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var declared = reader.GetString(2);
                columns.Add((new TableColumn(reader.GetString(1), declared, KindOf(declared)), reader.GetInt64(5)));
            }
        }

        if (columns.Count == 0)
        {
            throw new SqlSpecException($"{where}: table '{table}' does not exist in the SQLite database '{connection.DataSource}'; create it first.");
        }

        var keys = new List<IReadOnlyList<string>>();
        var primary = columns.Where(c => c.Pk > 0).OrderBy(c => c.Pk).Select(c => c.Column.Name).ToList();
        if (primary.Count > 0)
        {
            keys.Add(primary);
        }

        var uniqueIndexes = new List<string>();
        await using (var list = connection.CreateCommand())
        {
            list.CommandText = $"PRAGMA index_list({quoted})";
            await using var reader = await list.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                if (reader.GetInt64(2) == 1 && reader.GetInt64(4) == 0)
                {
                    uniqueIndexes.Add(reader.GetString(1));
                }
            }
        }

        foreach (var index in uniqueIndexes)
        {
            await using var info = connection.CreateCommand();
            info.CommandText = $"PRAGMA index_info({TableSchema.Quote(index)})";
            await using var reader = await info.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var names = new List<string>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                names.Add(reader.IsDBNull(2) ? string.Empty : reader.GetString(2));
            }

            keys.Add(names);
        }

        return new TableSchema(quoted, table, columns.Select(c => c.Column).ToList(), keys);
    }

    /// <summary>SQLite's type affinity rules, with booleans, dates and times kept readable.</summary>
    private static ColumnKind KindOf(string declared)
    {
        var type = declared.ToUpperInvariant();
        return type switch
        {
            _ when type.Contains("INT", StringComparison.Ordinal) => ColumnKind.Int64,
            _ when type.Contains("CHAR", StringComparison.Ordinal) || type.Contains("CLOB", StringComparison.Ordinal) || type.Contains("TEXT", StringComparison.Ordinal) => ColumnKind.Text,
            _ when type.Contains("BLOB", StringComparison.Ordinal) => ColumnKind.Bytes,
            "" => ColumnKind.Any,
            _ when type.Contains("REAL", StringComparison.Ordinal) || type.Contains("FLOA", StringComparison.Ordinal) || type.Contains("DOUB", StringComparison.Ordinal) => ColumnKind.Double,
            _ when type.Contains("BOOL", StringComparison.Ordinal) => ColumnKind.Boolean,
            _ when type.Contains("DATE", StringComparison.Ordinal) || type.Contains("TIME", StringComparison.Ordinal) || type.Contains("JSON", StringComparison.Ordinal) => ColumnKind.Text,
            _ => ColumnKind.Number,
        };
    }
}
