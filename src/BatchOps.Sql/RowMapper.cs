using System.Text.Json;
using BatchOps.Engine.Jobs;

namespace BatchOps.Sql;

/// <summary>The rows of one chunk: the columns written (in table order) and each item's values.</summary>
internal sealed record ChunkRows(IReadOnlyList<TableColumn> Columns, IReadOnlyList<object?[]> Values, IReadOnlyList<long> Indexes);

/// <summary>
/// Maps item fields to columns: by name ignoring case, or through the operation's "columns" map. A field
/// with no column is an error unless unmapped fields are ignored; delete reads only the key.
/// </summary>
internal sealed class RowMapper
{
    private readonly TableSchema _schema;
    private readonly Dictionary<string, TableColumn> _fields = new(StringComparer.OrdinalIgnoreCase);
    private readonly bool _ignoreUnmapped;
    private readonly SqlMode _mode;

    public RowMapper(TableSchema schema, SqlMode mode, IReadOnlyList<TableColumn> key, IReadOnlyDictionary<string, string>? columns, bool ignoreUnmapped, string where)
    {
        _schema = schema;
        _mode = mode;
        Key = key;
        _ignoreUnmapped = ignoreUnmapped;
        foreach (var (field, columnName) in columns ?? new Dictionary<string, string>())
        {
            _fields[field] = schema.Find(columnName)
                ?? throw new SqlSpecException($"{where}: \"columns\" maps field '{field}' to column '{columnName}', which table {schema.DisplayName} does not have. Its columns: {string.Join(", ", schema.Columns.Select(c => c.Name))}.");
        }
    }

    /// <summary>The key columns (upsert, update, delete).</summary>
    public IReadOnlyList<TableColumn> Key { get; }

    /// <summary>Checks an item before anything runs: an object whose fields all have columns and whose key fields are there.</summary>
    public void Validate(JsonElement item, long index)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            throw new SqlSpecException($"item {index}: is {Describe(item.ValueKind)}; a sql operation writes one row per item, so each item must be a JSON object of field names and values.");
        }

        var seen = new HashSet<TableColumn>();
        foreach (var property in item.EnumerateObject())
        {
            if (ColumnOf(property.Name) is { } column)
            {
                if (column.Kind is null && (_mode != SqlMode.Delete || Key.Contains(column)))
                {
                    throw new SqlSpecException(Unsupported(column));
                }

                seen.Add(column);
            }
            else if (!_ignoreUnmapped && _mode != SqlMode.Delete)
            {
                throw new SqlSpecException(Unmapped(index, property.Name));
            }
        }

        foreach (var key in Key.Where(k => !seen.Contains(k)))
        {
            throw new SqlSpecException($"item {index}: has no field for key column {key.Name}; every item needs its key to be {Verb()}.");
        }

        if (_mode == SqlMode.Update && seen.All(Key.Contains))
        {
            throw new SqlSpecException($"item {index}: {NothingToUpdate()}");
        }
    }

    /// <summary>Converts a chunk's items; a row that cannot be written throws naming the row, column and value.</summary>
    public ChunkRows Map(IReadOnlyList<BatchItem<JsonElement>> items)
    {
        var written = new HashSet<TableColumn>(Key);
        if (_mode != SqlMode.Delete)
        {
            foreach (var item in items)
            {
                if (item.Value.ValueKind != JsonValueKind.Object)
                {
                    continue; // rejected with its row below
                }

                foreach (var property in item.Value.EnumerateObject())
                {
                    if (ColumnOf(property.Name) is { } column)
                    {
                        written.Add(column);
                        if (column.Kind is null)
                        {
                            throw new SqlRowException($"row {item.Index}: {Unsupported(column)}");
                        }
                    }
                    else if (!_ignoreUnmapped)
                    {
                        throw new SqlRowException(Unmapped(item.Index, property.Name));
                    }
                }
            }
        }

        var columns = _schema.Columns.Where(written.Contains).ToArray();
        if (_mode == SqlMode.Update && columns.All(Key.Contains))
        {
            throw new SqlRowException($"row {items[0].Index}: {NothingToUpdate()}");
        }

        var slots = new Dictionary<TableColumn, int>();
        for (var i = 0; i < columns.Length; i++)
        {
            slots[columns[i]] = i;
        }

        var rows = new object?[items.Count][];
        var indexes = new long[items.Count];
        for (var r = 0; r < items.Count; r++)
        {
            var item = items[r];
            indexes[r] = item.Index;
            var values = new object?[columns.Length];
            var present = new bool[columns.Length];
            if (item.Value.ValueKind != JsonValueKind.Object)
            {
                throw new SqlRowException($"row {item.Index}: is {Describe(item.Value.ValueKind)}, not an object of field names and values.");
            }

            foreach (var property in item.Value.EnumerateObject())
            {
                if (ColumnOf(property.Name) is not { } column || !slots.TryGetValue(column, out var slot))
                {
                    continue;
                }

                try
                {
                    values[slot] = ValueConverter.Convert(property.Value, column.Kind!.Value);
                }
                catch (Exception error) when (error is FormatException or OverflowException)
                {
                    throw new SqlRowException($"row {item.Index}: column {column.Name}: {error.Message}", error);
                }

                present[slot] = true;
            }

            for (var c = 0; c < columns.Length; c++)
            {
                if (!present[c])
                {
                    throw new SqlRowException($"row {item.Index}: has no field for column {columns[c].Name}, which other rows of its chunk write; give every item the same fields (null for no value).");
                }
            }

            foreach (var key in Key)
            {
                if (values[slots[key]] is null)
                {
                    throw new SqlRowException($"row {item.Index}: key column {key.Name} is empty; a row is {Verb()} by its key.");
                }
            }

            rows[r] = values;
        }

        return new ChunkRows(columns, rows, indexes);
    }

    private TableColumn? ColumnOf(string field) => _fields.TryGetValue(field, out var mapped) ? mapped : _schema.Find(field);

    private string Unmapped(long index, string field) =>
        $"row {index}: field '{field}' has no column in table {_schema.DisplayName}; map it to a column with \"columns\" (-ColumnMap) or drop such fields with \"ignoreUnmapped\" (-IgnoreUnmapped). Its columns: {string.Join(", ", _schema.Columns.Select(c => c.Name))}.";

    private string Unsupported(TableColumn column) =>
        $"column {column.Name} has type {column.TypeName}, which the sql operation cannot write; leave the field out, or map it elsewhere with \"columns\".";

    private string NothingToUpdate() =>
        $"has no field to update besides the key ({string.Join(", ", Key.Select(k => k.Name))}); give each item the columns to change.";

    private string Verb() => _mode switch
    {
        SqlMode.Upsert => "matched for an upsert",
        SqlMode.Update => "found for an update",
        SqlMode.Delete => "found for a delete",
        _ => "written",
    };

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}
