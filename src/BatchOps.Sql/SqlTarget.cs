namespace BatchOps.Sql;

/// <summary>
/// Where and how a sql operation writes: the stored definition of the operation, from which resume and
/// retry rebuild it. Holds no secret: <see cref="Connection"/> is either a connection string without a
/// password or <c>env:NAME</c>, read from the environment each time the operation is built.
/// </summary>
public sealed class SqlTarget
{
    /// <summary>"postgresql" or "sqlite".</summary>
    public string? Provider { get; set; }

    /// <summary>A connection string, <c>env:NAME</c>, or (SQLite) a database file path.</summary>
    public string? Connection { get; set; }

    /// <summary>The table, optionally schema-qualified (PostgreSQL).</summary>
    public string? Table { get; set; }

    /// <summary>"insert", "upsert", "update" or "delete".</summary>
    public string? Mode { get; set; }

    /// <summary>Key columns: required for upsert, update and delete.</summary>
    public List<string>? Key { get; set; }

    /// <summary>Item field to column, for fields whose name differs from the column's.</summary>
    public Dictionary<string, string>? Columns { get; set; }

    /// <summary>Item fields with no column are dropped instead of rejected.</summary>
    public bool? IgnoreUnmapped { get; set; }

    /// <summary>Upsert: the columns an existing row takes from the item; the default is every written column but the key.</summary>
    public List<string>? UpdateColumns { get; set; }

    /// <summary>The job stops before a chunk would take the rows it changed past this number.</summary>
    public long? MaxAffected { get; set; }

    /// <summary>A JSON Lines file that receives the current rows before a chunk updates or deletes them.</summary>
    public string? Backup { get; set; }
}
