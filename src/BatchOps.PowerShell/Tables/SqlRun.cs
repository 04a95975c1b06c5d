using System.Management.Automation;
using System.Runtime.CompilerServices;
using System.Text.Json;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using BatchOps.PowerShell.Commands;
using BatchOps.Sql;

namespace BatchOps.PowerShell.Tables;

/// <summary>
/// A sql operation run from the module. Rows are stored as JSON and outputs as text, exactly as
/// <c>batchops</c> stores them, so either front end resumes and retries the other's jobs. Piped objects
/// are turned into rows on the pipeline thread; results show the piped object itself.
/// </summary>
internal sealed class SqlRun : IDisposable
{
    private readonly ConditionalWeakTable<object, PSObject> _piped = [];

    private SqlRun(SqlOperation operation)
    {
        Operation = operation;
    }

    public SqlOperation Operation { get; }

    /// <summary>Checks the target and reads the table; problems are <see cref="SqlSpecException"/>s naming the parameter.</summary>
    public static SqlRun Open(SqlTarget target, string baseFolder, string where) =>
        new(SqlOperation.OpenAsync(target, baseFolder, where).GetAwaiter().GetResult());

    /// <summary>Rebuilds the operation of a stored sql job (resume, retry).</summary>
    public static SqlRun FromJob(JobRecord job) =>
        Open(SqlTarget.FromStoredJson(job.Operation), Environment.CurrentDirectory, $"job '{job.Name}' ({job.Id})");

    /// <summary>
    /// Turns a piped object into its row (with <paramref name="validate"/>, checked: fields mapped, key present,
    /// else <see cref="SqlSpecException"/>); returns the row to run. Rows not checked here fail alone when they run.
    /// </summary>
    public object ToRow(PSObject piped, long index, bool validate)
    {
        if (piped.BaseObject is string or ValueType)
        {
            // The first row decides whether anything runs; a later one fails alone, as any row that cannot be written.
            if (validate)
            {
                throw new SqlSpecException(
                    $"row {index}: is a {piped.BaseObject.GetType().Name} ('{piped.BaseObject}'); a row needs named values: pipe objects with properties (Import-Csv, [pscustomobject]@{{ sku = 'A1' }}) or hashtables.");
            }

            return Remember(JsonSerializer.SerializeToElement(piped.BaseObject.ToString()), piped);
        }

        var row = JsonRows.FromObject(piped);
        if (validate)
        {
            Operation.Validate(row, index);
        }

        return Remember(row, piped);
    }

    private object Remember(JsonElement row, PSObject piped)
    {
        object boxed = row;
        _piped.AddOrUpdate(boxed, piped);
        return boxed;
    }

    /// <summary>The engine operation for the job <paramref name="jobId"/> reports once the runner has it.</summary>
    public RunOperation ToRunOperation(Func<string> jobId)
    {
        ChunkOperation<JsonElement, string?>? chunk = null;
        var operation = BatchOperation<object?, object?>.PerChunk((items, cancellationToken) =>
            JsonBoxing.RunChunkAsync(chunk ??= Operation.ToChunkOperation(jobId()), items, cancellationToken));
        return new RunOperation(operation, JsonBoxing.Items, JsonBoxing.Outputs, this)
        {
            InputView = input => input is not null && _piped.TryGetValue(input, out var piped) ? piped : input is JsonElement row ? JsonRows.ToObject(row) : input,
        };
    }

    public void Dispose() => Operation.DisposeAsync().AsTask().GetAwaiter().GetResult();
}
