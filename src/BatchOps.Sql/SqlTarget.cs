using System.Text.Json;
using System.Text.Json.Nodes;
using BatchOps.Engine.Store;

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

    /// <summary>
    /// The definition as a job stores it: this target's fields after <c>"kind": "sql"</c>, so every front
    /// end (batchops, the module) reads the same job back.
    /// </summary>
    public string ToStoredJson()
    {
        var fields = JsonSerializer.SerializeToNode(this, StoreJson.Options)!.AsObject();
        var definition = new JsonObject { ["kind"] = SqlOperation.Kind };
        foreach (var (name, value) in fields.ToList())
        {
            fields.Remove(name);
            definition[name] = value;
        }

        return definition.ToJsonString(StoreJson.Options);
    }

    /// <summary>Reads a stored definition back (see <see cref="ToStoredJson"/>).</summary>
    public static SqlTarget FromStoredJson(string json) =>
        JsonSerializer.Deserialize<SqlTarget>(json, StoreJson.Options) ?? throw new SqlSpecException("The job stores no sql operation definition.");
}
