using System.Text.Json;

namespace BatchOps.Operations.Spec;

/// <summary>
/// The operation of a spec: <c>exec</c> (command, args, workingDirectory, env) or <c>http</c>
/// (method, url, headers, body). String values may hold placeholders: {field.path}, {item}, {index}.
/// </summary>
public sealed class OperationSpec
{
    public const string Exec = "exec";
    public const string Http = "http";
    public const string Sql = "sql";

    /// <summary>A PowerShell script block, run only by the module (Invoke-BatchJob -SpecPath, Start-BatchWorker).</summary>
    public const string ScriptBlock = Engine.Hosting.ScriptOperationSpec.Kind;

    /// <summary>"exec", "http" or "sql".</summary>
    public string? Kind { get; set; }

    /// <summary>exec: program to start (looked up on PATH).</summary>
    public string? Command { get; set; }

    /// <summary>exec: arguments, passed without a shell.</summary>
    public List<string>? Args { get; set; }

    /// <summary>exec: working directory, relative to the spec file.</summary>
    public string? WorkingDirectory { get; set; }

    /// <summary>exec: extra environment variables.</summary>
    public Dictionary<string, string>? Env { get; set; }

    /// <summary>
    /// exec: true when the spec means to put item values into a shell's script argument (sh -c, pwsh
    /// -Command, cmd /c) and trusts the data; otherwise run and the dry run warn about it. Default false.
    /// </summary>
    public bool? AllowShellPlaceholders { get; set; }

    /// <summary>http: method; the default is GET.</summary>
    public string? Method { get; set; }

    /// <summary>http: absolute URL.</summary>
    public string? Url { get; set; }

    /// <summary>http: request headers.</summary>
    public Dictionary<string, string>? Headers { get; set; }

    /// <summary>
    /// http: the header that carries each item's idempotency key (the same across retries, resume and
    /// retry-failed). Absent: "Idempotency-Key"; "" sends none.
    /// </summary>
    public string? IdempotencyHeader { get; set; }

    /// <summary>http: body, a string (sent as text) or any JSON value (sent as JSON).</summary>
    public JsonElement? Body { get; set; }

    /// <summary>sql: "postgresql" or "sqlite".</summary>
    public string? Provider { get; set; }

    /// <summary>sql: connection string without a password, "env:NAME", or (SQLite) a file path.</summary>
    public string? Connection { get; set; }

    /// <summary>sql: the target table.</summary>
    public string? Table { get; set; }

    /// <summary>sql: "insert", "upsert", "update" or "delete".</summary>
    public string? Mode { get; set; }

    /// <summary>sql: key columns (upsert, update, delete).</summary>
    public List<string>? Key { get; set; }

    /// <summary>sql: item field to column, where the names differ.</summary>
    public Dictionary<string, string>? Columns { get; set; }

    /// <summary>sql: drop item fields that have no column instead of rejecting the item.</summary>
    public bool? IgnoreUnmapped { get; set; }

    /// <summary>sql upsert: the columns an existing row takes.</summary>
    public List<string>? UpdateColumns { get; set; }

    /// <summary>sql: stop before a chunk takes the rows changed past this number.</summary>
    public long? MaxAffected { get; set; }

    /// <summary>sql: JSON Lines file receiving rows before they are updated or deleted.</summary>
    public string? Backup { get; set; }

    /// <summary>scriptblock: the PowerShell script run per item ($_ is the item as ConvertFrom-Json gives it).</summary>
    public string? Script { get; set; }

    /// <summary>scriptblock: modules imported into every worker runspace.</summary>
    public List<string>? ImportModule { get; set; }
}
