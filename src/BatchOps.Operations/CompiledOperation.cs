using System.Text.Json;
using BatchOps.Operations.Spec;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;

namespace BatchOps.Operations;

/// <summary>An operation of a spec, checked and with its templates compiled, ready to run per item.</summary>
public abstract class CompiledOperation
{
    /// <summary>"exec", "http" or "sql".</summary>
    public abstract string Kind { get; }

    /// <summary>The normalized definition stored with the job, from which resume and retry rebuild it.</summary>
    public abstract string Definition { get; }

    /// <summary>Whether this operation undoes items: its {output…} placeholders read the forward operation's output.</summary>
    public bool IsUndo { get; internal set; }

    /// <summary>
    /// What the spec does that is allowed but risky with untrusted item data (a placeholder in shell code),
    /// each naming the place and the safe form; printed by run, submit and the dry run. Empty by default.
    /// </summary>
    public virtual IReadOnlyList<string> Warnings => [];

    /// <summary>Throws when the item lacks a field a placeholder uses.</summary>
    public abstract void Validate(JsonElement item, long index);

    /// <summary>
    /// What the operation would do for one item, fully rendered, for a dry run: lines of text with secrets
    /// masked. Null for kinds whose dry run does more than render (sql: a rolled-back transaction).
    /// </summary>
    public virtual IReadOnlyList<string>? Render(JsonElement item, long index) => Render(item, new ItemContext(index));

    /// <summary>Like <see cref="Render(JsonElement, long)"/>, with what is known of the item (its stage; for an undo, a stand-in output).</summary>
    public virtual IReadOnlyList<string>? Render(JsonElement item, in ItemContext context) => null;

    /// <summary>The engine operation for job <paramref name="jobId"/> (stage <paramref name="stage"/>); the output is text (stdout, response body, the row's fate).</summary>
    public virtual BatchOperation<JsonElement, string?> ToBatchOperation(string jobId, string? stage = null) =>
        BatchOperation<JsonElement, string?>.PerItem((item, ct) => new ValueTask<string?>(RunItemAsync(item.Value, ItemContext.Of(item, jobId, stage), ct)));

    /// <summary>The engine operation that undoes items of job <paramref name="jobId"/>: each call gets the item and its forward output.</summary>
    public virtual BatchOperation<Compensation<JsonElement, string?>, string?> ToUndoOperation(string jobId, string? stage = null) =>
        BatchOperation<Compensation<JsonElement, string?>, string?>.PerItem((item, ct) => new ValueTask<string?>(RunItemAsync(item.Value.Input, ItemContext.OfUndo(item, jobId, stage), ct)));

    /// <summary>Runs the operation for one item.</summary>
    protected virtual Task<string?> RunItemAsync(JsonElement item, ItemContext context, CancellationToken cancellationToken) =>
        throw new NotSupportedException($"A \"{Kind}\" operation does not run item by item.");
}
