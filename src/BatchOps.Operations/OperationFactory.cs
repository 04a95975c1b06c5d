using System.Text.Json;
using BatchOps.Operations.Spec;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;

namespace BatchOps.Operations;

/// <summary>Builds the built-in operation kinds from a spec, and again from a stored job.</summary>
public static class OperationFactory
{
    /// <summary>Checks an operation spec and compiles it; <paramref name="where"/> prefixes error messages.</summary>
    public static CompiledOperation Compile(OperationSpec spec, string baseFolder, string where, bool undo = false)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (undo)
        {
            if (spec.Kind == OperationSpec.Sql)
            {
                throw new JobSpecException($"{where}: an undo runs per item; use kind \"exec\" or \"http\" (a sql undo would need the rows as they were: see \"backup\").");
            }

            var compiled = Compile(spec, baseFolder, where);
            compiled.IsUndo = true;
            return compiled;
        }

        return spec.Kind switch
        {
            OperationSpec.ScriptBlock => ScriptBlockOperation.Compile(spec, where),
            OperationSpec.Exec => ExecOperation.Compile(spec, baseFolder, where),
            OperationSpec.Http => HttpOperation.Compile(spec, where),
            OperationSpec.Sql => SqlTableOperation.Compile(spec, baseFolder, where),
            null => throw new JobSpecException($"{where}: \"kind\" is required: \"exec\" (run a process per item), \"http\" (send a request per item), \"sql\" (write rows to a table in chunks) or, in a stage, \"scriptblock\" (a PowerShell script per item)."),
            var other => throw new JobSpecException($"{where}: unknown kind \"{other}\"; use \"exec\", \"http\", \"sql\" or, in a stage, \"scriptblock\"."),
        };
    }

    /// <summary>Rebuilds a stage's operation (or the undo of a stage when <paramref name="undo"/>) of a stored job; a script block throws (only PowerShell runs it).</summary>
    public static CompiledOperation FromStage(JobRecord job, JobStage stage, bool undo = false)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(stage);
        var (kind, definition) = undo ? (stage.Undo!.OperationKind, stage.Undo.Operation) : (stage.OperationKind, stage.Operation);
        if (kind == OperationSpec.ScriptBlock)
        {
            throw new JobSpecException(ScriptBlockOperation.OnlyInPowerShell(job, stage.Name));
        }

        if (kind is not (OperationSpec.Exec or OperationSpec.Http or OperationSpec.Sql))
        {
            throw new JobSpecException($"Job '{job.Name}' ({job.Id}) runs a '{kind}' operation, which only the front end that created it can run (for example the PowerShell module).");
        }

        var spec = JsonSerializer.Deserialize<OperationSpec>(definition, StoreJson.Options)
            ?? throw new JobSpecException($"Job '{job.Name}' ({job.Id}) has no operation definition.");
        var where = $"job {job.Id}: {(stage.Name.Length == 0 ? string.Empty : $"stage {stage.Name}: ")}{(undo ? "undo" : "operation")}";
        return Compile(spec, Environment.CurrentDirectory, where, undo);
    }

    /// <summary>Rebuilds the operation of a stored job (resume, retry).</summary>
    public static CompiledOperation FromJob(JobRecord job)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (job.OperationKind is not (OperationSpec.Exec or OperationSpec.Http or OperationSpec.Sql))
        {
            throw new JobSpecException($"Job '{job.Name}' ({job.Id}) runs a '{job.OperationKind}' operation, which only the front end that created it can run (for example the PowerShell module).");
        }

        var spec = JsonSerializer.Deserialize<OperationSpec>(job.Operation, StoreJson.Options)
            ?? throw new JobSpecException($"Job '{job.Name}' ({job.Id}) has no operation definition.");
        return Compile(spec, Environment.CurrentDirectory, $"job {job.Id}: operation");
    }
}
