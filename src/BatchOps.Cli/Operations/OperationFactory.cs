using System.Text.Json;
using BatchOps.Cli.Spec;
using BatchOps.Engine.Store;

namespace BatchOps.Cli.Operations;

/// <summary>Builds the built-in operation kinds from a spec, and again from a stored job.</summary>
public static class OperationFactory
{
    /// <summary>Checks an operation spec and compiles it; <paramref name="where"/> prefixes error messages.</summary>
    public static CompiledOperation Compile(OperationSpec spec, string baseFolder, string where)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return spec.Kind switch
        {
            OperationSpec.Exec => ExecOperation.Compile(spec, baseFolder, where),
            OperationSpec.Http => HttpOperation.Compile(spec, where),
            OperationSpec.Sql => SqlTableOperation.Compile(spec, baseFolder, where),
            null => throw new JobSpecException($"{where}: \"kind\" is required: \"exec\" (run a process per item), \"http\" (send a request per item) or \"sql\" (write rows to a table in chunks)."),
            var other => throw new JobSpecException($"{where}: unknown kind \"{other}\"; use \"exec\", \"http\" or \"sql\"."),
        };
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
