using System.Collections.Concurrent;
using System.Data.Common;
using System.Text.Json;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;

namespace BatchOps.Sql;

/// <summary>How many rows one chunk inserted, updated, deleted or did not find (or would, in a dry run).</summary>
/// <param name="FirstIndex">The chunk's first item index.</param>
/// <param name="LastIndex">The chunk's last item index.</param>
/// <param name="Counts">Rows per outcome, for example "inserted" or "would update".</param>
public sealed record SqlChunkReport(long FirstIndex, long LastIndex, IReadOnlyDictionary<string, int> Counts);

/// <summary>
/// The sql operation, checked against the live table: a chunk operation that writes each chunk in one
/// database transaction. Build it with <see cref="OpenAsync"/> (reads the table once), check items with
/// <see cref="Validate"/>, run it through the engine with <see cref="ToChunkOperation"/>.
/// </summary>
public sealed class SqlOperation : IAsyncDisposable
{
    private readonly SqlWriter _writer;
    private readonly RowMapper _mapper;
    private readonly SemaphoreSlim _ready = new(1, 1);
    private readonly ConcurrentDictionary<string, long> _totals = new(StringComparer.Ordinal);
    private BackupFile? _backup;
    private bool _isReady;
    private bool _markers;
    private long _affected;

    private SqlOperation(SqlTarget definition, SqlMode mode, SqlWriter writer, RowMapper mapper)
    {
        Definition = definition;
        Mode = mode;
        _writer = writer;
        _mapper = mapper;
    }

    /// <summary>The operation kind name in specs and the job store.</summary>
    public const string Kind = "sql";

    /// <summary>The normalized definition to store with the job (no secrets; absolute paths).</summary>
    public SqlTarget Definition { get; }

    /// <summary>What the operation does with each row.</summary>
    public SqlMode Mode { get; }

    /// <summary>Called after each chunk commits (or, in a dry run, rolls back) with its counts.</summary>
    public Action<SqlChunkReport>? ChunkCompleted { get; set; }

    /// <summary>Rows per outcome over every chunk so far.</summary>
    public IReadOnlyDictionary<string, long> Totals => _totals;

    /// <summary>
    /// Checks the definition, connects, reads the table and resolves key and update columns; every problem
    /// is a <see cref="SqlSpecException"/> naming the field and the fix. <paramref name="where"/> prefixes messages.
    /// </summary>
    public static async Task<SqlOperation> OpenAsync(SqlTarget target, string baseFolder, string where, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        var provider = target.Provider?.ToLowerInvariant() switch
        {
            SqlProviders.PostgreSql or "postgres" or "npgsql" => SqlProviders.PostgreSql,
            SqlProviders.Sqlite => SqlProviders.Sqlite,
            null => throw new SqlSpecException($"{where}: \"provider\" is required: \"postgresql\" or \"sqlite\"."),
            _ => throw new SqlSpecException($"{where}: unknown provider \"{target.Provider}\"; use \"postgresql\" or \"sqlite\"."),
        };
        var mode = target.Mode?.ToLowerInvariant() switch
        {
            "insert" => SqlMode.Insert,
            "upsert" => SqlMode.Upsert,
            "update" => SqlMode.Update,
            "delete" => SqlMode.Delete,
            null => throw new SqlSpecException($"{where}: \"mode\" is required: \"insert\", \"upsert\", \"update\" or \"delete\"."),
            _ => throw new SqlSpecException($"{where}: unknown mode \"{target.Mode}\"; use \"insert\", \"upsert\", \"update\" or \"delete\"."),
        };
        if (string.IsNullOrWhiteSpace(target.Table))
        {
            throw new SqlSpecException($"{where}: \"table\" is required: the table to write to.");
        }

        if (mode != SqlMode.Insert && (target.Key is null || target.Key.Count == 0))
        {
            throw new SqlSpecException($"{where}: \"key\" is required for {mode.ToString().ToLowerInvariant()}: the column(s) that identify a row, for example [\"sku\"].");
        }

        if (target.MaxAffected is < 1)
        {
            throw new SqlSpecException($"{where}: \"maxAffected\" must be at least 1 (it is {target.MaxAffected}).");
        }

        if (target.Backup is not null && mode == SqlMode.Insert)
        {
            throw new SqlSpecException($"{where}: \"backup\" saves rows before they change, which insert never does; use it with upsert, update or delete.");
        }

        if (target.UpdateColumns is not null && mode != SqlMode.Upsert)
        {
            throw new SqlSpecException($"{where}: \"updateColumns\" applies to upsert only (update sets every field an item gives).");
        }

        var connection = SqlConnectionReference.Normalize(target.Connection, provider, baseFolder, where);
        var resolved = SqlConnectionReference.Resolve(connection, provider, where);
        var definition = new SqlTarget
        {
            Provider = provider,
            Connection = connection,
            Table = target.Table,
            Mode = mode.ToString().ToLowerInvariant(),
            Key = mode == SqlMode.Insert ? null : target.Key,
            Columns = target.Columns is { Count: > 0 } ? target.Columns : null,
            IgnoreUnmapped = target.IgnoreUnmapped is true ? true : null,
            UpdateColumns = target.UpdateColumns,
            MaxAffected = target.MaxAffected,
            Backup = target.Backup is null ? null : Path.GetFullPath(Path.Combine(baseFolder, target.Backup)),
        };

        (IReadOnlyList<TableColumn>, IReadOnlyList<TableColumn>?) Configure(TableSchema schema) => ResolveColumns(schema, definition, mode, where);
        SqlWriter writer = provider == SqlProviders.PostgreSql
            ? await PostgresWriter.OpenAsync(resolved, target.Table, mode, Configure, where, cancellationToken).ConfigureAwait(false)
            : await SqliteWriter.OpenAsync(resolved, target.Table, mode, Configure, where, cancellationToken).ConfigureAwait(false);
        var mapper = new RowMapper(writer.Schema, mode, writer.Key, definition.Columns, definition.IgnoreUnmapped is true, where);
        return new SqlOperation(definition, mode, writer, mapper);
    }

    /// <summary>A one-line description for logs and dry runs, without the connection.</summary>
    public string Describe() => $"{Definition.Mode} into {Definition.Provider} table {_writer.Schema.DisplayName}" +
        (_writer.Key.Count > 0 ? $" by key ({string.Join(", ", _writer.Key.Select(k => k.Name))})" : string.Empty);

    /// <summary>Checks an item before anything runs (object, mapped fields, key present).</summary>
    public void Validate(JsonElement item, long index) => _mapper.Validate(item, index);

    /// <summary>
    /// The engine operation for job <paramref name="jobId"/>. A dry run applies each chunk in a transaction
    /// that is rolled back and writes no markers and no backup; outputs read "would insert" and so on.
    /// </summary>
    public ChunkOperation<JsonElement, string?> ToChunkOperation(string jobId, bool dryRun = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(jobId);
        return (items, cancellationToken) => RunChunkAsync(jobId, dryRun, items, cancellationToken);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        _backup?.Dispose();
        _ready.Dispose();
        await _writer.DisposeAsync().ConfigureAwait(false);
    }

    private async ValueTask<IReadOnlyList<string?>?> RunChunkAsync(string jobId, bool dryRun, IReadOnlyList<BatchItem<JsonElement>> items, CancellationToken cancellationToken)
    {
        var rows = _mapper.Map(items);
        var outputs = new string?[items.Count];
        try
        {
            await EnsureReadyAsync(jobId, dryRun, cancellationToken).ConfigureAwait(false);
            await using var connection = await _writer.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await _writer.BeginAsync(connection, cancellationToken).ConfigureAwait(false);
            // An insert changes every row it is given: its marker can be written before the rows, with the read.
            var (applied, claimed) = _markers
                ? await AppliedMarkers.ReadAsync(connection, transaction, _writer.Markers, jobId, rows.Indexes, Mode == SqlMode.Insert && !dryRun ? rows.Count : null, cancellationToken).ConfigureAwait(false)
                : ([], false);
            var pending = applied.Count == 0 ? rows : rows.Without(applied);
            if (pending.Count > 0)
            {
                var result = await _writer.ApplyAsync(connection, transaction, pending, _backup is not null && !dryRun, cancellationToken).ConfigureAwait(false);
                Reserve(result.Affected);
                try
                {
                    _backup?.Append(result.BackupRows);
                    if (dryRun)
                    {
                        await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
                    }
                    else
                    {
                        if (!claimed)
                        {
                            await AppliedMarkers.WriteAsync(connection, transaction, _writer.Markers, jobId, pending.Indexes, result.Affected, cancellationToken).ConfigureAwait(false);
                        }

                        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                    }
                }
                catch
                {
                    Interlocked.Add(ref _affected, -result.Affected);
                    throw;
                }

                var slot = 0;
                for (var i = 0; i < items.Count; i++)
                {
                    outputs[i] = applied.Contains(items[i].Index) ? null : (dryRun ? Would(result.Outputs[slot++]) : result.Outputs[slot++]);
                }
            }

            for (var i = 0; i < items.Count; i++)
            {
                outputs[i] ??= "applied earlier";
            }
        }
        catch (DbException error)
        {
            throw _writer.Describe(error);
        }

        Report(items, outputs);
        return outputs;
    }

    private void Reserve(long affected)
    {
        if (Definition.MaxAffected is not { } limit)
        {
            return;
        }

        var total = Interlocked.Add(ref _affected, affected);
        if (total > limit)
        {
            Interlocked.Add(ref _affected, -affected);
            throw new BatchLimitException(
                $"Stopped before a chunk would change {affected:N0} more row(s): that takes the job past maxAffected {limit:N0} ({total - affected:N0} changed so far). Nothing of that chunk was written; raise maxAffected (-MaxAffected) and resume the job to go on.");
        }
    }

    private async Task EnsureReadyAsync(string jobId, bool dryRun, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _isReady))
        {
            return;
        }

        await _ready.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_isReady)
            {
                return;
            }

            await using var connection = await _writer.OpenAsync(cancellationToken).ConfigureAwait(false);
            if (!dryRun)
            {
                await _writer.EnsureMarkersAsync(connection, cancellationToken).ConfigureAwait(false);
            }

            _markers = dryRun ? await _writer.MarkersExistAsync(connection, cancellationToken).ConfigureAwait(false) : true;
            if (_markers && Definition.MaxAffected is not null)
            {
                _affected = await AppliedMarkers.AffectedAsync(connection, _writer.Markers, jobId, cancellationToken).ConfigureAwait(false);
            }

            if (Definition.Backup is { } path && !dryRun)
            {
                _backup = new BackupFile(path);
            }

            Volatile.Write(ref _isReady, true);
        }
        finally
        {
            _ready.Release();
        }
    }

    private void Report(IReadOnlyList<BatchItem<JsonElement>> items, string?[] outputs)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var output in outputs)
        {
            counts[output!] = counts.GetValueOrDefault(output!) + 1;
        }

        foreach (var (label, count) in counts)
        {
            _totals.AddOrUpdate(label, count, (_, total) => total + count);
        }

        ChunkCompleted?.Invoke(new SqlChunkReport(items[0].Index, items[^1].Index, counts));
    }

    private static string Would(string output) => output switch
    {
        "inserted" => "would insert",
        "updated" => "would update",
        "deleted" => "would delete",
        _ => output,
    };

    private static (IReadOnlyList<TableColumn> Key, IReadOnlyList<TableColumn>? Update) ResolveColumns(TableSchema schema, SqlTarget definition, SqlMode mode, string where)
    {
        TableColumn Column(string name, string field) => schema.Find(name)
            ?? throw new SqlSpecException($"{where}: \"{field}\" names column '{name}', which table {schema.DisplayName} does not have. Its columns: {string.Join(", ", schema.Columns.Select(c => c.Name))}.");

        var key = (definition.Key ?? []).Select(k => Column(k, "key")).ToList();
        if (mode == SqlMode.Upsert && !schema.UniqueKeys.Any(u => u.Count == key.Count && u.All(c => key.Exists(k => string.Equals(k.Name, c, StringComparison.Ordinal)))))
        {
            var names = string.Join(", ", key.Select(k => k.Name));
            throw new SqlSpecException($"{where}: upsert matches rows by ({names}), but table {schema.DisplayName} has no primary key or unique index on exactly those columns; create one (CREATE UNIQUE INDEX ON {schema.DisplayName} ({names})) or change \"key\".");
        }

        var update = definition.UpdateColumns?.Select(c => Column(c, "updateColumns")).ToList();
        if (update?.Find(key.Contains) is { } both)
        {
            throw new SqlSpecException($"{where}: \"updateColumns\" names key column {both.Name}; a row's key is what finds it, so it is never updated.");
        }

        return (key, update);
    }
}
