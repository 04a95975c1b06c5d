namespace BatchOps.Sql;

/// <summary>How values for a column are converted from items.</summary>
internal enum ColumnKind
{
    Int16,
    Int32,
    Int64,
    Single,
    Double,
    Decimal,
    Boolean,
    Text,
    Uuid,
    Date,
    Timestamp,
    TimestampTz,
    Time,
    Json,
    Bytes,
    Inet,
    Number,
    Any,
}

/// <summary>A column of the target table, read once from the database.</summary>
/// <param name="Name">The column's name as the database spells it.</param>
/// <param name="TypeName">The database's type name (PostgreSQL: for binary COPY; SQLite: the declared type).</param>
/// <param name="Kind">How item values are converted for it; null for a type the operation cannot write.</param>
internal sealed record TableColumn(string Name, string TypeName, ColumnKind? Kind);

/// <summary>The target table: its quoted name for statements and its columns.</summary>
internal sealed class TableSchema
{
    private readonly Dictionary<string, TableColumn> _byName;

    public TableSchema(string quotedName, string displayName, IReadOnlyList<TableColumn> columns, IReadOnlyList<IReadOnlyList<string>> uniqueKeys)
    {
        QuotedName = quotedName;
        DisplayName = displayName;
        Columns = columns;
        UniqueKeys = uniqueKeys;
        _byName = new Dictionary<string, TableColumn>(StringComparer.OrdinalIgnoreCase);
        foreach (var column in columns)
        {
            _byName.TryAdd(column.Name, column);
        }
    }

    /// <summary>The table's name quoted for SQL.</summary>
    public string QuotedName { get; }

    /// <summary>The table's name for messages.</summary>
    public string DisplayName { get; }

    public IReadOnlyList<TableColumn> Columns { get; }

    /// <summary>Column sets of the primary key and the unique indexes (what ON CONFLICT can name).</summary>
    public IReadOnlyList<IReadOnlyList<string>> UniqueKeys { get; }

    /// <summary>Finds a column by name, ignoring case.</summary>
    public TableColumn? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>Quotes an identifier for SQL (both providers accept double quotes).</summary>
    public static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
