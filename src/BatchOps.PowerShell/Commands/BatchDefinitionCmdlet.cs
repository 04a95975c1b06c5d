using System.Management.Automation;
using System.Text.Json;
using BatchOps.Engine.Hosting;
using BatchOps.Engine.Jobs;
using JobDefinition = BatchOps.Engine.Jobs.JobDefinition;
using BatchOps.Engine.Store;
using BatchOps.PowerShell.Scripting;

namespace BatchOps.PowerShell.Commands;

/// <summary>The parameters that define a script-block job, shared by New-BatchJob and Invoke-BatchJob.</summary>
public abstract class BatchDefinitionCmdlet : BatchSettingsCmdlet
{
    internal const string ScriptSet = "ScriptBlock";
    internal const string ChunkSet = "ChunkScriptBlock";

    /// <summary>The items: pipe them in.</summary>
    [Parameter(ParameterSetName = ScriptSet, ValueFromPipeline = true)]
    [Parameter(ParameterSetName = ChunkSet, ValueFromPipeline = true)]
    [AllowNull]
    public PSObject? InputObject { get; set; }

    /// <summary>Runs once per item; the item is $_ / $PSItem and the first argument.</summary>
    [Parameter(ParameterSetName = ScriptSet, Mandatory = true, Position = 0, HelpMessage = "The script block to run for each item. The item is $_ and the first argument.")]
    public ScriptBlock? ScriptBlock { get; set; }

    /// <summary>Runs once per chunk with the chunk's items as an array; a failed chunk is split until the bad items are found.</summary>
    [Parameter(ParameterSetName = ChunkSet, Mandatory = true, HelpMessage = "The script block to run for each chunk; $_ is the array of the chunk's items.")]
    public ScriptBlock? ChunkScriptBlock { get; set; }

    /// <summary>Name of the job; the default is batch-yyyyMMdd-HHmmss.</summary>
    [Parameter(ParameterSetName = ScriptSet)]
    [Parameter(ParameterSetName = ChunkSet)]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    [Parameter(ParameterSetName = ScriptSet)]
    [Parameter(ParameterSetName = ChunkSet)]
    public string? Description { get; set; }

    [Parameter(ParameterSetName = ScriptSet)]
    [Parameter(ParameterSetName = ChunkSet)]
    public string[]? Tag { get; set; }

    /// <summary>Extra arguments passed after the item.</summary>
    [Parameter(ParameterSetName = ScriptSet)]
    [Parameter(ParameterSetName = ChunkSet)]
    [Alias("Args")]
    public object[]? ArgumentList { get; set; }

    /// <summary>Modules imported in every worker runspace (the caller's modules are not visible there).</summary>
    [Parameter(ParameterSetName = ScriptSet)]
    [Parameter(ParameterSetName = ChunkSet)]
    public string[]? ImportModule { get; set; }

    /// <summary>Functions of the caller's session copied into every worker runspace.</summary>
    [Parameter(ParameterSetName = ScriptSet)]
    [Parameter(ParameterSetName = ChunkSet)]
    public string[]? Function { get; set; }

    /// <summary>Property of each item used as its key in results, logs and Get-BatchItem.</summary>
    [Parameter(ParameterSetName = ScriptSet)]
    [Parameter(ParameterSetName = ChunkSet)]
    public string? KeyProperty { get; set; }

    /// <summary>The job's name, given or generated once per invocation.</summary>
    internal string JobName => Name ??= $"batch-{DateTime.Now:yyyyMMdd-HHmmss}";

    /// <summary>Builds the job definition: settings (validated), script, $using: values, functions.</summary>
    internal JobDefinition BuildDefinition()
    {
        var settings = ResolveSettings(JobName);
        var block = ScriptBlock ?? ChunkScriptBlock!;
        var (script, usings) = UsingCapture.Capture(block, SessionState);
        var functions = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var name in Function ?? [])
        {
            if (InvokeCommand.GetCommand(name, CommandTypes.Function) is not FunctionInfo function)
            {
                ThrowTerminatingError(new ErrorRecord(
                    new ArgumentException($"-Function names '{name}', but there is no such function in this session. Define it first, or load it in the workers with -ImportModule."),
                    "BatchOps.FunctionNotFound", ErrorCategory.ObjectNotFound, name));
                throw new InvalidOperationException();
            }

            functions[function.Name] = function.Definition;
        }

        var spec = new ScriptOperationSpec
        {
            Script = script,
            PerChunk = ChunkScriptBlock is not null,
            ArgumentList = ArgumentList is null ? null : CliXmlCodec.Instance.Serialize(ArgumentList),
            UsingValues = usings.ToDictionary(p => p.Key, p => CliXmlCodec.Instance.Serialize(p.Value), StringComparer.OrdinalIgnoreCase),
            ImportModule = ImportModule ?? [],
            Functions = functions,
        };
        return new JobDefinition
        {
            Name = JobName,
            Description = Description,
            Tags = Tag ?? [],
            Settings = settings,
            OperationKind = ScriptOperationSpec.Kind,
            Operation = JsonSerializer.Serialize(spec, StoreJson.Options),
        };
    }

    /// <summary>The key of an item from -KeyProperty; read on the pipeline thread (script properties need it).</summary>
    internal string? KeyOf(PSObject? item) => PropertyText(item, KeyProperty);
}
