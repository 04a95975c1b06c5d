using System.Text.Json;
using BatchOps.Engine.Execution;

namespace BatchOps.Cli.Operations;

/// <summary>An operation of a spec, checked and with its templates compiled, ready to run per item.</summary>
public abstract class CompiledOperation
{
    /// <summary>"exec", "http" or "sql".</summary>
    public abstract string Kind { get; }

    /// <summary>The normalized definition stored with the job, from which resume and retry rebuild it.</summary>
    public abstract string Definition { get; }

    /// <summary>Throws when the item lacks a field a placeholder uses.</summary>
    public abstract void Validate(JsonElement item, long index);

    /// <summary>
    /// What the operation would do for one item, fully rendered, for a dry run: lines of text with secrets
    /// masked. Null for kinds whose dry run does more than render (sql: a rolled-back transaction).
    /// </summary>
    public virtual IReadOnlyList<string>? Render(JsonElement item, long index) => null;

    /// <summary>The engine operation for job <paramref name="jobId"/>; the output is text (stdout, response body, the row's fate).</summary>
    public abstract BatchOperation<JsonElement, string?> ToBatchOperation(string jobId);
}
