using System.Text.Json;
using BatchOps.Operations.Spec;
using BatchOps.Engine.Execution;
using BatchOps.Sql;

namespace BatchOps.Operations;

/// <summary>
/// The sql kind: writes each chunk of items to a table in one transaction (see BatchOps.Sql). The table is
/// read when the spec is loaded, so unknown columns and fields are reported before anything is created.
/// </summary>
public sealed class SqlTableOperation : CompiledOperation
{
    private readonly SqlOperation _operation;

    private SqlTableOperation(SqlOperation operation)
    {
        _operation = operation;
    }

    public override string Kind => OperationSpec.Sql;

    /// <summary>The library's normalized target with the kind added; it reads back as an <see cref="OperationSpec"/>.</summary>
    public override string Definition => _operation.Definition.ToStoredJson();

    /// <summary>The operation underneath, for dry runs and their per-chunk reports.</summary>
    public SqlOperation Operation => _operation;

    public static SqlTableOperation Compile(OperationSpec spec, string baseFolder, string where)
    {
        var target = new SqlTarget
        {
            Provider = spec.Provider,
            Connection = spec.Connection,
            Table = spec.Table,
            Mode = spec.Mode,
            Key = spec.Key,
            Columns = spec.Columns,
            IgnoreUnmapped = spec.IgnoreUnmapped,
            UpdateColumns = spec.UpdateColumns,
            MaxAffected = spec.MaxAffected,
            Backup = spec.Backup,
        };
        try
        {
            return new SqlTableOperation(SqlOperation.OpenAsync(target, baseFolder, where).GetAwaiter().GetResult());
        }
        catch (SqlSpecException error)
        {
            throw new JobSpecException(error.Message, error);
        }
    }

    public override void Validate(JsonElement item, long index)
    {
        try
        {
            _operation.Validate(item, index);
        }
        catch (SqlSpecException error)
        {
            throw new JobSpecException(error.Message, error);
        }
    }

    public override BatchOperation<JsonElement, string?> ToBatchOperation(string jobId, string? stage = null) =>
        BatchOperation<JsonElement, string?>.PerChunk(_operation.ToChunkOperation(jobId));
}
