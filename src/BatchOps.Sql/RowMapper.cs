using System.Text.Json;
using BatchOps.Engine.Jobs;

namespace BatchOps.Sql;

/// <summary>
/// The rows of one chunk: the columns written (in table order), and each item's values, converted only when
/// a writer reads the row (so they live no longer than its write). A row that cannot be written throws
/// <see cref="SqlRowException"/> then, naming the row, column and value; the chunk's transaction is rolled
/// back and the engine splits the chunk as for any other failure.
/// </summary>
internal sealed class ChunkRows
{
    private readonly RowMapper _mapper;
    private readonly IReadOnlyList<BatchItem<JsonElement>> _items;
    private readonly int[] _slotOf;

    public ChunkRows(RowMapper mapper, IReadOnlyList<BatchItem<JsonElement>> items, TableColumn[] columns, int[] slotOf)
    {
        _mapper = mapper;
        _items = items;
        _slotOf = slotOf;
        Columns = columns;
        var indexes = new long[items.Count];
        for (var i = 0; i < indexes.Length; i++)
        {
            indexes[i] = items[i].Index;
        }

        Indexes = indexes;
    }

    public IReadOnlyList<TableColumn> Columns { get; }

    /// <summary>The rows' item indexes, in order.</summary>
    public IReadOnlyList<long> Indexes { get; }

    public int Count => _items.Count;

    /// <summary>Converts row <paramref name="row"/> into <paramref name="values"/> (one per column; null for SQL NULL).</summary>
    public void Read(int row, object?[] values) => _mapper.Convert(_items[row], Columns, _slotOf, values);

    /// <summary>The rows whose indexes are not in <paramref name="applied"/>.</summary>
    public ChunkRows Without(HashSet<long> applied) =>
        new(_mapper, _items.Where(item => !applied.Contains(item.Index)).ToList(), (TableColumn[])Columns, _slotOf);
}

/// <summary>
/// Maps item fields to columns: by name ignoring case, or through the operation's "columns" map. A field
/// with no column is an error unless unmapped fields are ignored; delete reads only the key.
/// </summary>
internal sealed class RowMapper
{
    private readonly TableSchema _schema;
    private readonly Dictionary<string, TableColumn> _fields = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<TableColumn, int> _ordinals = new(ReferenceEqualityComparer.Instance);
    private readonly bool _ignoreUnmapped;
    private readonly SqlMode _mode;
    private readonly int[] _keyOrdinals;

    /// <summary>The fields of the last object shape seen; replaced whole, never changed (chunks are mapped in parallel).</summary>
    private FieldShape? _shape;

    public RowMapper(TableSchema schema, SqlMode mode, IReadOnlyList<TableColumn> key, IReadOnlyDictionary<string, string>? columns, bool ignoreUnmapped, string where)
    {
        _schema = schema;
        _mode = mode;
        Key = key;
        _ignoreUnmapped = ignoreUnmapped;
        for (var i = 0; i < schema.Columns.Count; i++)
        {
            _ordinals[schema.Columns[i]] = i;
        }

        _keyOrdinals = key.Select(k => _ordinals[k]).ToArray();
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

        Span<bool> seen = _schema.Columns.Count <= 256 ? stackalloc bool[_schema.Columns.Count] : new bool[_schema.Columns.Count];
        var shape = _shape;
        var differs = false;
        var position = 0;
        foreach (var property in item.EnumerateObject())
        {
            var ordinal = OrdinalAt(property, position++, shape, ref differs);
            if (ordinal >= 0)
            {
                var column = _schema.Columns[ordinal];
                if (column.Kind is null && (_mode != SqlMode.Delete || Key.Contains(column)))
                {
                    throw new SqlSpecException(Unsupported(column));
                }

                seen[ordinal] = true;
            }
            else if (!_ignoreUnmapped && _mode != SqlMode.Delete)
            {
                throw new SqlSpecException(Unmapped(index, property.Name));
            }
        }

        Remember(item, shape, differs, position);
        var updates = false;
        for (var c = 0; c < seen.Length; c++)
        {
            if (_keyOrdinals.Contains(c))
            {
                if (!seen[c])
                {
                    throw new SqlSpecException($"item {index}: has no field for key column {_schema.Columns[c].Name}; every item needs its key to be {Verb()}.");
                }
            }
            else
            {
                updates |= seen[c];
            }
        }

        if (_mode == SqlMode.Update && !updates)
        {
            throw new SqlSpecException($"item {index}: {NothingToUpdate()}");
        }
    }

    /// <summary>The columns a chunk writes (those any of its rows has, and the key); a field without a column throws. Rows are converted as they are read (<see cref="ChunkRows.Read"/>).</summary>
    public ChunkRows Map(IReadOnlyList<BatchItem<JsonElement>> items)
    {
        // The chunk writes every column any of its rows has (and the key).
        var writes = new bool[_schema.Columns.Count];
        foreach (var key in _keyOrdinals)
        {
            writes[key] = true;
        }

        if (_mode != SqlMode.Delete)
        {
            foreach (var item in items)
            {
                if (item.Value.ValueKind != JsonValueKind.Object)
                {
                    throw NotAnObject(item);
                }

                var shape = _shape;
                var differs = false;
                var position = 0;
                foreach (var property in item.Value.EnumerateObject())
                {
                    var ordinal = OrdinalAt(property, position++, shape, ref differs);
                    if (ordinal >= 0)
                    {
                        writes[ordinal] = true;
                        if (_schema.Columns[ordinal].Kind is null)
                        {
                            throw new SqlRowException($"row {item.Index}: {Unsupported(_schema.Columns[ordinal])}");
                        }
                    }
                    else if (!_ignoreUnmapped)
                    {
                        throw new SqlRowException(Unmapped(item.Index, property.Name));
                    }
                }

                Remember(item.Value, shape, differs, position);
            }
        }

        var slotOf = new int[writes.Length];
        var columns = new List<TableColumn>();
        for (var c = 0; c < writes.Length; c++)
        {
            slotOf[c] = writes[c] ? columns.Count : -1;
            if (writes[c])
            {
                columns.Add(_schema.Columns[c]);
            }
        }

        if (_mode == SqlMode.Update && columns.All(Key.Contains))
        {
            throw new SqlRowException($"row {items[0].Index}: {NothingToUpdate()}");
        }

        return new ChunkRows(this, items, [.. columns], slotOf);
    }

    /// <summary>Converts one item into the chunk's column values; throws naming the row, column and value.</summary>
    public void Convert(BatchItem<JsonElement> item, IReadOnlyList<TableColumn> columns, int[] slotOf, object?[] values)
    {
        if (item.Value.ValueKind != JsonValueKind.Object)
        {
            throw NotAnObject(item);
        }

        Span<bool> present = columns.Count <= 256 ? stackalloc bool[columns.Count] : new bool[columns.Count];
        var shape = _shape;
        var differs = false;
        var position = 0;
        foreach (var property in item.Value.EnumerateObject())
        {
            var ordinal = OrdinalAt(property, position++, shape, ref differs);
            var slot = ordinal < 0 ? -1 : slotOf[ordinal];
            if (slot < 0)
            {
                continue;
            }

            var column = columns[slot];
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

        for (var c = 0; c < columns.Count; c++)
        {
            if (!present[c])
            {
                throw new SqlRowException($"row {item.Index}: has no field for column {columns[c].Name}, which other rows of its chunk write; give every item the same fields (null for no value).");
            }
        }

        foreach (var key in _keyOrdinals)
        {
            if (values[slotOf[key]] is null)
            {
                throw new SqlRowException($"row {item.Index}: key column {_schema.Columns[key].Name} is empty; a row is {Verb()} by its key.");
            }
        }
    }

    /// <summary>
    /// The schema position of the column of the field at <paramref name="position"/> of an item; -1 when it
    /// has none. Items of one file or pipeline nearly always share their fields and order, so the field's
    /// name is compared, in place, with the one at the same position of the last shape seen, and looked up
    /// by name only when it differs.
    /// </summary>
    private int OrdinalAt(JsonProperty property, int position, FieldShape? shape, ref bool differs)
    {
        if (shape is not null && position < shape.Names.Length && property.NameEquals(shape.Names[position]))
        {
            return shape.Ordinals[position];
        }

        differs = true;
        return OrdinalOf(property.Name);
    }

    /// <summary>Makes an item's fields the shape later items are compared with, when they differ from <paramref name="shape"/>.</summary>
    private void Remember(JsonElement item, FieldShape? shape, bool differs, int fieldCount)
    {
        if (shape is not null && !differs && fieldCount == shape.Names.Length)
        {
            return;
        }

        var names = new List<byte[]>();
        var ordinals = new List<int>();
        foreach (var property in item.EnumerateObject())
        {
            names.Add(System.Text.Encoding.UTF8.GetBytes(property.Name));
            ordinals.Add(OrdinalOf(property.Name));
        }

        _shape = new FieldShape([.. names], [.. ordinals]);
    }

    /// <summary>The schema position of a field's column; -1 when it has none.</summary>
    private int OrdinalOf(string field) =>
        (_fields.TryGetValue(field, out var mapped) ? mapped : _schema.Find(field)) is { } column ? _ordinals[column] : -1;

    private static SqlRowException NotAnObject(BatchItem<JsonElement> item) =>
        new($"row {item.Index}: is {Describe(item.Value.ValueKind)}, not an object of field names and values.");

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

    /// <summary>The UTF-8 names of an object's fields in order, and their columns' schema positions (-1: none).</summary>
    private sealed record FieldShape(byte[][] Names, int[] Ordinals);
}
