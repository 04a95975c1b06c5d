using System.Collections;
using System.Management.Automation;
using System.Runtime.CompilerServices;
using System.Text.Json;
using BatchOps.Engine.Hosting;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using BatchOps.PowerShell.Output;
using BatchOps.PowerShell.Tables;
using BatchOps.Sql;
using JobDefinition = BatchOps.Engine.Jobs.JobDefinition;

namespace BatchOps.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Writes piped objects to a PostgreSQL or SQLite table in chunks (insert, upsert, update or delete) as a durable batch job.</para>
/// </summary>
[Cmdlet(VerbsCommunications.Write, "BatchTable", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(BatchJob), typeof(BatchItemResult))]
public sealed class WriteBatchTableCommand : BatchSettingsCmdlet
{
    /// <summary>Whether the pipeline's input ended (EndProcessing) rather than being closed by Ctrl+C.</summary>
    private volatile bool _inputEnded;

    /// <summary>Rows per chunk (one database transaction) when neither -ChunkSize nor the settings file says.</summary>
    internal const int DefaultChunkSize = 1_000;

    private static readonly (string Field, string Parameter)[] Parameters =
    [
        ("provider", "Provider"), ("connection", "Connection"), ("table", "Table"), ("mode", "Mode"), ("key", "Key"),
        ("columns", "ColumnMap"), ("ignoreUnmapped", "IgnoreUnmapped"), ("updateColumns", "UpdateColumn"),
        ("maxAffected", "MaxAffected"), ("backup", "BackupPath"),
    ];

    private SqlRun? _sql;
    private JobDefinition? _definition;
    private PipelineInput<object?>? _input;
    private TableDryRun? _dryRun;
    private readonly ConditionalWeakTable<object, string> _keys = [];
    private bool _sqlOwnedByRun;
    private long _offered;

    /// <summary>The rows: objects (Import-Csv, Select-Object, [pscustomobject]) or hashtables; their properties are the columns.</summary>
    [Parameter(ValueFromPipeline = true)]
    [AllowNull]
    public PSObject? InputObject { get; set; }

    /// <summary>A connection string without a password, env:NAME (an environment variable holding one), or a SQLite database file.</summary>
    [Parameter(Mandatory = true, Position = 0, HelpMessage = "A connection string without a password, env:NAME, or a SQLite database file.")]
    [ValidateNotNullOrEmpty]
    public string Connection { get; set; } = string.Empty;

    /// <summary>The table, schema-qualified if needed (PostgreSQL).</summary>
    [Parameter(Mandatory = true, Position = 1, HelpMessage = "The table to write to.")]
    [ValidateNotNullOrEmpty]
    public string Table { get; set; } = string.Empty;

    /// <summary>Insert (the default), Upsert, Update or Delete.</summary>
    [Parameter]
    [ValidateSet("Insert", "Upsert", "Update", "Delete")]
    public string Mode { get; set; } = "Insert";

    /// <summary>The column(s) that identify a row: required for Upsert, Update and Delete.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Key { get; set; }

    /// <summary>PostgreSql or Sqlite; the default is read from -Connection (a file path or Data Source= is SQLite).</summary>
    [Parameter]
    [ValidateSet("PostgreSql", "Sqlite")]
    public string? Provider { get; set; }

    /// <summary>Property name to column name, for properties named differently from their column: @{ Price = 'unit_price' }.</summary>
    [Parameter]
    public Hashtable? ColumnMap { get; set; }

    /// <summary>Drop properties that have no column instead of rejecting the rows.</summary>
    [Parameter]
    public SwitchParameter IgnoreUnmapped { get; set; }

    /// <summary>Upsert: the columns an existing row takes from the object; the default is every written column but the key.</summary>
    [Parameter]
    public string[]? UpdateColumn { get; set; }

    /// <summary>Stop the job before a chunk would take the rows it changed past this number (job-wide, across runs).</summary>
    [Parameter]
    [ValidateRange(1, long.MaxValue)]
    public long MaxAffected { get; set; }

    /// <summary>A JSON Lines file that receives the current rows before each chunk updates or deletes them.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? BackupPath { get; set; }

    /// <summary>Output every row's result (BatchItemResult) instead of the job at the end.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Name of the job; the default is table-&lt;table&gt;-yyyyMMdd-HHmmss.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    [Parameter]
    public string? Description { get; set; }

    [Parameter]
    public string[]? Tag { get; set; }

    /// <summary>Property of each object used as its key in results, logs and Get-BatchItem.</summary>
    [Parameter]
    public string? KeyProperty { get; set; }

    protected override void BeginProcessing()
    {
        var jobName = Name ??= $"table-{Table}-{DateTime.Now:yyyyMMdd-HHmmss}";
        var settings = ResolveSettings(jobName, new JobSettings { ChunkSize = DefaultChunkSize });
        var target = new SqlTarget
        {
            Provider = Provider?.ToLowerInvariant() ?? SqlProviders.Infer(Connection)
                ?? Fail<string>($"Cannot tell the database from -Connection '{Redacted()}'; add -Provider PostgreSql or -Provider Sqlite."),
            Connection = Connection,
            Table = Table,
            Mode = Mode.ToLowerInvariant(),
            Key = Key?.ToList(),
            Columns = ColumnMap?.Cast<DictionaryEntry>().ToDictionary(e => e.Key.ToString()!, e => e.Value?.ToString() ?? string.Empty, StringComparer.OrdinalIgnoreCase),
            IgnoreUnmapped = IgnoreUnmapped ? true : null,
            UpdateColumns = UpdateColumn?.ToList(),
            MaxAffected = MyInvocation.BoundParameters.ContainsKey(nameof(MaxAffected)) ? MaxAffected : null,
            Backup = BackupPath is null ? null : GetUnresolvedProviderPathFromPSPath(BackupPath),
        };
        var baseFolder = SessionState.Path.CurrentFileSystemLocation.ProviderPath;
        _sql = OrInvalidTarget(() => SqlRun.Open(target, baseFolder, MyInvocation.MyCommand.Name));
        var definition = new JobDefinition
        {
            Name = jobName,
            Description = Description,
            Tags = Tag ?? [],
            Settings = settings,
            OperationKind = SqlOperation.Kind,
            Operation = _sql.Operation.Definition.ToStoredJson(),
        };
        if (ShouldProcess(_sql.Operation.Describe(), $"Write the piped rows as job '{jobName}'"))
        {
            _definition = definition;
        }
        else if (WhatIf())
        {
            _definition = definition;
            try
            {
                _dryRun = new TableDryRun(_sql.Operation, settings.ToOptions());
            }
            catch (ArgumentOutOfRangeException error)
            {
                ThrowInvalidSetting(error);
            }
        }
    }

    protected override void ProcessRecord()
    {
        if (_sql is null || _definition is null || InputObject is null)
        {
            return;
        }

        var index = _offered++;
        var row = OrInvalidTarget(() => _sql.ToRow(InputObject, index, validate: index == 0));
        if (_dryRun is not null)
        {
            _dryRun.Add((JsonElement)row);
            return;
        }

        if (PropertyText(InputObject, KeyProperty) is { } key)
        {
            _keys.AddOrUpdate(row, key);
        }

        // The first row has been checked, so a job is created only for rows that fit the table.
        ActiveRun ??= Start();
        _input!.Add(row, ActiveRun.Pump, Show, ActiveRun.InputClosed);
    }

    protected override void EndProcessing()
    {
        if (_dryRun is not null)
        {
            ReportDryRun(_dryRun);
            return;
        }

        if (_definition is null || _sql is null)
        {
            return;
        }

        ActiveRun ??= Start();
        _inputEnded = true;
        _input!.Complete();
        var result = InvokeBatchJobCommand.Finish(this, ActiveRun, Show);
        if (!PassThru)
        {
            WriteObject(OutputViews.View(result.Job, JobStore.Location));
        }
    }

    /// <summary>Writes what the run reports; rows' results only with -PassThru (failed rows are errors either way).</summary>
    private void Show(PumpMessage message)
    {
        if (PassThru || message.Kind != PumpMessageKind.Output)
        {
            Write(message);
        }
    }

    private JobRunSession Start()
    {
        var session = new JobRunSession();
        var definition = _definition!;
        var options = definition.Settings.ToOptions();
        _input = new PipelineInput<object?>(Math.Max(options.ChunkSize * 4, 256), batchSize: Math.Min(options.ChunkSize, 1_000));
        var input = _input;
        var runner = new JobRunner(JobStore, StoreLocation.LogFolder(StoreFolder));
        var operation = _sql!.ToRunOperation(() => session.JobId);
        _sqlOwnedByRun = true;
        session.Start(operation, definition.Name, RunKind.Resume, null, (request, ct) =>
            runner.RunNewAsync(definition, input.Items, request with { InputCutShort = () => !_inputEnded }, row => row is not null && _keys.TryGetValue(row, out var key) ? key : null, ct));
        return session;
    }

    /// <summary>-WhatIf, at the end: one What if line per chunk and a total, a warning per row that would fail.</summary>
    private void ReportDryRun(TableDryRun dryRun)
    {
        var operation = dryRun.Operation;
        var (chunks, failed, summary, rows) = dryRun.Complete();
        foreach (var chunk in chunks)
        {
            ShouldProcess($"rows {chunk.FirstIndex}-{chunk.LastIndex} of {operation.Describe()}", chunk.Describe());
        }

        foreach (var (index, message) in failed)
        {
            WriteWarning($"would fail: {(message.StartsWith("row ", StringComparison.Ordinal) ? message : $"row {index}: {message}")}");
        }

        var totals = operation.Totals.Select(t => (t.Key, t.Value)).ToList();
        if (summary.Failed > 0)
        {
            totals.Add(("would fail", summary.Failed));
        }

        ShouldProcess($"{rows} row(s), {operation.Describe()}", $"Would do: {(totals.Count == 0 ? "nothing" : DryRunTally.Format(totals))}{(summary.Message is { } stop ? $". {stop}" : string.Empty)}");
    }

    private bool WhatIf() =>
        MyInvocation.BoundParameters.TryGetValue("WhatIf", out var value) ? value is SwitchParameter { IsPresent: true }
        : SessionState.PSVariable.GetValue("WhatIfPreference") is { } preference && LanguagePrimitives.IsTrue(preference);

    private T OrInvalidTarget<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (SqlSpecException error)
        {
            return Fail<T>(ForParameters(error.Message), error);
        }
    }

    private T Fail<T>(string message, Exception? inner = null)
    {
        ThrowTerminatingError(new ErrorRecord(new ArgumentException(message, inner), ErrorRecordInfo.InvalidSqlTargetId, ErrorCategory.InvalidArgument, Table));
        throw new InvalidOperationException(message);
    }

    /// <summary>The library names spec fields ("key"); here they are parameters (-Key).</summary>
    private string ForParameters(string message)
    {
        var text = message.Replace($"{MyInvocation.MyCommand.Name}: ", string.Empty, StringComparison.Ordinal);
        foreach (var (field, parameter) in Parameters)
        {
            text = text.Replace($"\"{field}\" (-{parameter})", $"-{parameter}", StringComparison.Ordinal)
                .Replace($"\"{field}\"", $"-{parameter}", StringComparison.Ordinal);
        }

        return $"{MyInvocation.MyCommand.Name}: {text}";
    }

    private string Redacted() => Connection.Contains('=', StringComparison.Ordinal) ? "(a connection string)" : Connection;

    protected override void StopProcessing()
    {
        _dryRun?.Stop();
        base.StopProcessing();
    }

    internal override void CloseInput() => _input?.Complete();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _input?.Dispose();
            if (!_sqlOwnedByRun)
            {
                _sql?.Dispose();
            }

            _dryRun?.Dispose();
        }

        base.Dispose(disposing);
    }
}
