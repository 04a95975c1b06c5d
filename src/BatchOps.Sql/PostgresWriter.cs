using System.Data.Common;
using BatchOps.Engine.Execution;
using Npgsql;

namespace BatchOps.Sql;

/// <summary>
/// PostgreSQL through Npgsql. Insert is one binary COPY into the table; upsert, update and delete COPY
/// the chunk into a temporary table (dropped at the end of the transaction) and run one joined statement.
/// </summary>
internal sealed class PostgresWriter : SqlWriter
{
    private const string Stage = "batchops_stage";
    private readonly NpgsqlDataSource _source;
    private readonly string _schemaName;

    private PostgresWriter(NpgsqlDataSource source, string schemaName, TableSchema schema, SqlMode mode, IReadOnlyList<TableColumn> key, IReadOnlyList<TableColumn>? updateColumns)
        : base(schema, mode, key, updateColumns)
    {
        _source = source;
        _schemaName = schemaName;
    }

    public override string Markers => $"{TableSchema.Quote(_schemaName)}.batchops_applied";

    /// <summary>Reads the table once; <paramref name="configure"/> resolves key and update columns against it.</summary>
    public static async Task<PostgresWriter> OpenAsync(string connectionString, string table, SqlMode mode, Func<TableSchema, (IReadOnlyList<TableColumn> Key, IReadOnlyList<TableColumn>? Update)> configure, string where, CancellationToken cancellationToken)
    {
        var source = NpgsqlDataSource.Create(connectionString);
        try
        {
            await using var connection = await source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            var (schemaName, schema) = await ReadSchemaAsync(connection, table, where, cancellationToken).ConfigureAwait(false);
            var (key, update) = configure(schema);
            return new PostgresWriter(source, schemaName, schema, mode, key, update);
        }
        catch (NpgsqlException error)
        {
            await source.DisposeAsync().ConfigureAwait(false);
            throw new SqlSpecException($"{where}: cannot reach the PostgreSQL database: {error.Message}", error);
        }
        catch
        {
            await source.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public override async ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken) =>
        await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);

    public override async ValueTask<DbTransaction> BeginAsync(DbConnection connection, CancellationToken cancellationToken) =>
        await ((NpgsqlConnection)connection).BeginTransactionAsync(cancellationToken).ConfigureAwait(false);

    public override async Task EnsureMarkersAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            $"CREATE TABLE IF NOT EXISTS {Markers} (job_id text NOT NULL, first_index bigint NOT NULL, last_index bigint NOT NULL, affected bigint NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (job_id, first_index))",
            (NpgsqlConnection)connection);
        try
        {
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException error) when (error.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DuplicateTable)
        {
            // Another process created it at the same moment.
        }
    }

    public override async Task<bool> MarkersExistAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT to_regclass(@name) IS NOT NULL", (NpgsqlConnection)connection);
        command.Parameters.AddWithValue("name", Markers);
        return (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    public override async Task<AppliedRows> ApplyAsync(DbConnection connection, DbTransaction transaction, ChunkRows rows, bool backup, CancellationToken cancellationToken)
    {
        var npgsql = (NpgsqlConnection)connection;
        var columns = string.Join(", ", rows.Columns.Select(c => TableSchema.Quote(c.Name)));
        var outputs = new string[rows.Count];
        if (Mode == SqlMode.Insert)
        {
            await CopyAsync(npgsql, $"COPY {Schema.QuotedName} ({columns}) FROM STDIN (FORMAT BINARY)", rows, withIndex: false, cancellationToken).ConfigureAwait(false);
            Array.Fill(outputs, "inserted");
            return new AppliedRows(outputs, rows.Count, []);
        }

        await ExecuteAsync(npgsql, $"CREATE TEMP TABLE {Stage} ON COMMIT DROP AS SELECT 0::bigint AS batchops_index, {columns} FROM {Schema.QuotedName} WITH NO DATA", cancellationToken).ConfigureAwait(false);
        await CopyAsync(npgsql, $"COPY {Stage} (batchops_index, {columns}) FROM STDIN (FORMAT BINARY)", rows, withIndex: true, cancellationToken).ConfigureAwait(false);
        var join = string.Join(" AND ", Key.Select(k => $"t.{TableSchema.Quote(k.Name)} = s.{TableSchema.Quote(k.Name)}"));
        var backupRows = new List<string>();
        var existing = new HashSet<long>();
        if (backup || Mode == SqlMode.Upsert)
        {
            await using var select = new NpgsqlCommand($"SELECT s.batchops_index, {(backup ? "row_to_json(t)::text" : "NULL")} FROM {Stage} s JOIN {Schema.QuotedName} t ON {join}", npgsql);
            await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                existing.Add(reader.GetInt64(0));
                if (backup)
                {
                    backupRows.Add(reader.GetString(1));
                }
            }
        }

        long affected;
        if (Mode == SqlMode.Upsert)
        {
            var set = SetColumns(rows).Select(c => $"{TableSchema.Quote(c.Name)} = EXCLUDED.{TableSchema.Quote(c.Name)}").ToList();
            var action = set.Count == 0 ? "DO NOTHING" : $"DO UPDATE SET {string.Join(", ", set)}";
            var keys = string.Join(", ", Key.Select(k => TableSchema.Quote(k.Name)));
            affected = await ExecuteAsync(npgsql, $"INSERT INTO {Schema.QuotedName} ({columns}) SELECT {columns} FROM {Stage} ORDER BY batchops_index ON CONFLICT ({keys}) {action}", cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < outputs.Length; i++)
            {
                outputs[i] = existing.Contains(rows.Indexes[i]) ? (set.Count == 0 ? "unchanged" : "updated") : "inserted";
            }

            return new AppliedRows(outputs, affected, backupRows);
        }

        var statement = Mode == SqlMode.Update
            ? $"UPDATE {Schema.QuotedName} AS t SET {string.Join(", ", SetColumns(rows).Select(c => $"{TableSchema.Quote(c.Name)} = s.{TableSchema.Quote(c.Name)}"))} FROM {Stage} s WHERE {join} RETURNING s.batchops_index"
            : $"DELETE FROM {Schema.QuotedName} AS t USING {Stage} s WHERE {join} RETURNING s.batchops_index";
        var position = new Dictionary<long, int>(rows.Indexes.Count);
        for (var i = 0; i < rows.Indexes.Count; i++)
        {
            position[rows.Indexes[i]] = i;
        }

        Array.Fill(outputs, "not found");
        affected = 0;
        await using (var command = new NpgsqlCommand(statement, npgsql))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                affected++;
                outputs[position[reader.GetInt64(0)]] = Mode == SqlMode.Update ? "updated" : "deleted";
            }
        }

        return new AppliedRows(outputs, affected, backupRows);
    }

    public override BatchOperationException Describe(DbException error)
    {
        if (error is PostgresException postgres)
        {
            var detail = postgres.Detail is { Length: > 0 } d ? $" {d}" : string.Empty;
            return new BatchOperationException($"{postgres.MessageText}.{detail} (SQLSTATE {postgres.SqlState})", isRetryable: postgres.IsTransient, innerException: postgres);
        }

        return new BatchOperationException($"PostgreSQL: {error.Message}", isRetryable: true, innerException: error);
    }

    public override ValueTask DisposeAsync() => _source.DisposeAsync();

    private static async Task CopyAsync(NpgsqlConnection connection, string copy, ChunkRows rows, bool withIndex, CancellationToken cancellationToken)
    {
        await using var importer = await connection.BeginBinaryImportAsync(copy, cancellationToken).ConfigureAwait(false);
        var values = new object?[rows.Columns.Count];
        for (var r = 0; r < rows.Count; r++)
        {
            rows.Read(r, values);
            await importer.StartRowAsync(cancellationToken).ConfigureAwait(false);
            if (withIndex)
            {
                await importer.WriteAsync(rows.Indexes[r], NpgsqlTypes.NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
            }

            for (var c = 0; c < values.Length; c++)
            {
                await WriteAsync(importer, values[c], rows.Columns[c].TypeName, cancellationToken).ConfigureAwait(false);
            }
        }

        await importer.CompleteAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes a value through Npgsql's converter for its own type (the object overload resolves one per value).</summary>
    private static Task WriteAsync(NpgsqlBinaryImporter importer, object? value, string type, CancellationToken cancellationToken) => value switch
    {
        null => importer.WriteNullAsync(cancellationToken),
        string text => importer.WriteAsync(text, type, cancellationToken),
        long number => importer.WriteAsync(number, type, cancellationToken),
        int number => importer.WriteAsync(number, type, cancellationToken),
        short number => importer.WriteAsync(number, type, cancellationToken),
        decimal number => importer.WriteAsync(number, type, cancellationToken),
        double number => importer.WriteAsync(number, type, cancellationToken),
        float number => importer.WriteAsync(number, type, cancellationToken),
        bool flag => importer.WriteAsync(flag, type, cancellationToken),
        DateTime moment => importer.WriteAsync(moment, type, cancellationToken),
        DateOnly date => importer.WriteAsync(date, type, cancellationToken),
        TimeOnly time => importer.WriteAsync(time, type, cancellationToken),
        Guid id => importer.WriteAsync(id, type, cancellationToken),
        _ => importer.WriteAsync(value, type, cancellationToken),
    };

    private static async Task<int> ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<(string SchemaName, TableSchema Schema)> ReadSchemaAsync(NpgsqlConnection connection, string table, string where, CancellationToken cancellationToken)
    {
        uint oid;
        string schemaName;
        string relationName;
        await using (var find = new NpgsqlCommand("SELECT c.oid, n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass(@table)", connection))
        {
            find.Parameters.AddWithValue("table", table);
            await using var reader = await find.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                throw new SqlSpecException($"{where}: table '{table}' does not exist in database '{connection.Database}' (as the search_path finds it); create it first, or name it with its schema (\"sales.products\").");
            }

            (oid, schemaName, relationName) = (reader.GetFieldValue<uint>(0), reader.GetString(1), reader.GetString(2));
        }

        var columns = new List<TableColumn>();
        await using (var read = new NpgsqlCommand(
            """
            SELECT a.attname, bt.typname, bt.typtype, bn.nspname || '.' || bt.typname
            FROM pg_attribute a
            JOIN pg_type t ON t.oid = a.atttypid
            JOIN pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
            JOIN pg_namespace bn ON bn.oid = bt.typnamespace
            WHERE a.attrelid = @oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
            ORDER BY a.attnum
            """, connection))
        {
            read.Parameters.AddWithValue("oid", NpgsqlTypes.NpgsqlDbType.Oid, oid);
            await using var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var (name, type, typtype, qualified) = (reader.GetString(0), reader.GetString(1), reader.GetChar(2), reader.GetString(3));
                columns.Add(new TableColumn(name, qualified, typtype == 'e' ? ColumnKind.Text : KindOf(type)));
            }
        }

        var keys = new List<IReadOnlyList<string>>();
        await using (var unique = new NpgsqlCommand(
            """
            SELECT array_agg(a.attname ORDER BY k.ord)
            FROM pg_index i
            CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
            WHERE i.indrelid = @oid AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
            GROUP BY i.indexrelid
            """, connection))
        {
            unique.Parameters.AddWithValue("oid", NpgsqlTypes.NpgsqlDbType.Oid, oid);
            await using var reader = await unique.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                keys.Add(reader.GetFieldValue<string[]>(0));
            }
        }

        var quoted = $"{TableSchema.Quote(schemaName)}.{TableSchema.Quote(relationName)}";
        return (schemaName, new TableSchema(quoted, $"{schemaName}.{relationName}", columns, keys));
    }

    private static ColumnKind? KindOf(string type) => type switch
    {
        "int2" => ColumnKind.Int16,
        "int4" => ColumnKind.Int32,
        "int8" => ColumnKind.Int64,
        "float4" => ColumnKind.Single,
        "float8" => ColumnKind.Double,
        "numeric" => ColumnKind.Decimal,
        "bool" => ColumnKind.Boolean,
        "text" or "varchar" or "bpchar" or "name" or "citext" => ColumnKind.Text,
        "uuid" => ColumnKind.Uuid,
        "date" => ColumnKind.Date,
        "timestamp" => ColumnKind.Timestamp,
        "timestamptz" => ColumnKind.TimestampTz,
        "time" => ColumnKind.Time,
        "json" or "jsonb" => ColumnKind.Json,
        "bytea" => ColumnKind.Bytes,
        "inet" => ColumnKind.Inet,
        _ => null,
    };
}
