using System.Text.Json;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Hosting;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using BatchOps.Operations.Spec;

namespace BatchOps.Operations;

/// <summary>
/// A stage of a spec that is a PowerShell script block (kind "scriptblock"). The library checks and stores it
/// (as the module stores its own script blocks, <see cref="ScriptOperationSpec"/>) but never runs it: only the
/// module can (Invoke-BatchJob -SpecPath, Start-BatchWorker), so batchops queues such a job for PowerShell
/// workers and runs the stages of other kinds itself.
/// </summary>
public sealed class ScriptBlockOperation : CompiledOperation
{
    private readonly ScriptOperationSpec _script;

    private ScriptBlockOperation(ScriptOperationSpec script)
    {
        _script = script;
        Definition = JsonSerializer.Serialize(script, StoreJson.Options);
    }

    /// <inheritdoc/>
    public override string Kind => OperationSpec.ScriptBlock;

    /// <inheritdoc/>
    public override string Definition { get; }

    /// <summary>Checks a scriptblock operation spec: a script, and nothing of the other kinds.</summary>
    public static ScriptBlockOperation Compile(OperationSpec spec, string where)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (string.IsNullOrWhiteSpace(spec.Script))
        {
            throw new JobSpecException($"{where}: \"script\" is required for kind \"scriptblock\": the PowerShell script run per item, with the item as $_ (as ConvertFrom-Json gives it).");
        }

        var foreign = new (object? Value, string Field)[] { (spec.Command, "command"), (spec.Args, "args"), (spec.Url, "url"), (spec.Method, "method"), (spec.Body, "body"), (spec.Headers, "headers"), (spec.Table, "table"), (spec.Connection, "connection") }
            .FirstOrDefault(f => f.Value is not null).Field;
        if (foreign is not null)
        {
            throw new JobSpecException($"{where}: \"{foreign}\" does not belong to kind \"scriptblock\" (fields: kind, script, importModule).");
        }

        return new ScriptBlockOperation(new ScriptOperationSpec { Script = spec.Script, ImportModule = [.. spec.ImportModule ?? []] });
    }

    /// <summary>What a front end that cannot host PowerShell says of a script-block stage.</summary>
    public static string OnlyInPowerShell(JobRecord job, string stage)
    {
        ArgumentNullException.ThrowIfNull(job);
        return $"Job '{job.Name}' ({job.Id}): stage '{stage}' is a PowerShell script block, which only PowerShell runs: " +
            "queue the job for workers (batchops submit, or New-BatchJob -SpecPath … -Queue) with a PowerShell one among them (Start-BatchWorker), or run it with Invoke-BatchJob -SpecPath.";
    }

    /// <inheritdoc/>
    public override void Validate(JsonElement item, long index)
    {
    }

    /// <inheritdoc/>
    public override IReadOnlyList<string>? Render(JsonElement item, in ItemContext context)
    {
        var lines = _script.Script.Trim().Split('\n');
        return [$"scriptblock (PowerShell): {TerminalText.Escape(lines[0].TrimEnd())}{(lines.Length > 1 ? $" … ({lines.Length} lines)" : string.Empty)}"];
    }

    /// <inheritdoc/>
    public override BatchOperation<JsonElement, string?> ToBatchOperation(string jobId, string? stage = null) =>
        throw new JobSpecException($"Stage '{stage}' of job {jobId} is a PowerShell script block, which only PowerShell runs (Start-BatchWorker, Invoke-BatchJob).");

    /// <inheritdoc/>
    public override BatchOperation<Compensation<JsonElement, string?>, string?> ToUndoOperation(string jobId, string? stage = null) =>
        throw new JobSpecException($"The undo of stage '{stage}' of job {jobId} is a PowerShell script block, which only PowerShell runs (Undo-BatchJob, Start-BatchWorker).");
}
