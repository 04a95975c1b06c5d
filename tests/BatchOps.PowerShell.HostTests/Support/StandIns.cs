using System.Management.Automation;

namespace BatchOps.PowerShell.HostTests.Support;

// The hosted engine has the core cmdlets only (no Microsoft.PowerShell.Utility): these stand in for the
// few that test scripts use, with the same names and parameters users know, so the scripts read as they
// would in a real session. Worker runspaces find them through PSModulePath like any installed module.

/// <summary>Publishes the stand-ins as a module on PSModulePath (once per process).</summary>
internal static class StandIns
{
    private static readonly Lazy<string> Folder = new(() =>
    {
        var modules = Directory.CreateTempSubdirectory("batchops-standins-").FullName;
        var module = Directory.CreateDirectory(Path.Combine(modules, "BatchOps.TestStandIns")).FullName;
        File.WriteAllText(Path.Combine(module, "BatchOps.TestStandIns.psd1"), $$"""
            @{
                RootModule = '{{typeof(StandIns).Assembly.Location.Replace("'", "''", StringComparison.Ordinal)}}'
                ModuleVersion = '1.0.0'
                GUID = '0b8a3d2e-6f1c-4a5b-9e7d-3c2f1a0b9e8d'
                CmdletsToExport = @('Write-Warning', 'Write-Verbose', 'Write-Debug', 'Write-Information', 'Start-Sleep', 'Sort-Object')
            }
            """);
        var path = Environment.GetEnvironmentVariable("PSModulePath");
        Environment.SetEnvironmentVariable("PSModulePath", string.IsNullOrEmpty(path) ? modules : modules + Path.PathSeparator + path);
        return modules;
    });

    public static string Publish() => Folder.Value;
}

[Cmdlet(VerbsCommunications.Write, "Warning")]
public sealed class WriteWarningStandIn : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [AllowEmptyString]
    public string Message { get; set; } = string.Empty;

    protected override void ProcessRecord() => WriteWarning(Message);
}

[Cmdlet(VerbsCommunications.Write, "Verbose")]
public sealed class WriteVerboseStandIn : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [AllowEmptyString]
    public string Message { get; set; } = string.Empty;

    protected override void ProcessRecord() => WriteVerbose(Message);
}

[Cmdlet(VerbsCommunications.Write, "Debug")]
public sealed class WriteDebugStandIn : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [AllowEmptyString]
    public string Message { get; set; } = string.Empty;

    protected override void ProcessRecord() => WriteDebug(Message);
}

[Cmdlet(VerbsCommunications.Write, "Information")]
public sealed class WriteInformationStandIn : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    public object? MessageData { get; set; }

    [Parameter]
    public string[]? Tags { get; set; }

    protected override void ProcessRecord() => WriteInformation(MessageData, Tags);
}

[Cmdlet(VerbsLifecycle.Start, "Sleep")]
public sealed class StartSleepStandIn : PSCmdlet
{
    private readonly ManualResetEventSlim _stopped = new();

    [Parameter(Position = 0, ParameterSetName = "Seconds")]
    public double Seconds { get; set; }

    [Parameter(ParameterSetName = "Milliseconds")]
    public int Milliseconds { get; set; }

    // Waits on an event rather than Thread.Sleep, so a pipeline stop ends it at once, as the real one does.
    protected override void ProcessRecord() =>
        _stopped.Wait(ParameterSetName == "Seconds" ? TimeSpan.FromSeconds(Seconds) : TimeSpan.FromMilliseconds(Milliseconds));

    protected override void StopProcessing() => _stopped.Set();
}

[Cmdlet("Sort", "Object")]
public sealed class SortObjectStandIn : PSCmdlet
{
    private readonly List<PSObject> _items = [];

    [Parameter(Position = 0)]
    public string? Property { get; set; }

    [Parameter]
    public SwitchParameter Unique { get; set; }

    [Parameter]
    public SwitchParameter Descending { get; set; }

    [Parameter(ValueFromPipeline = true)]
    public PSObject? InputObject { get; set; }

    protected override void ProcessRecord()
    {
        if (InputObject is not null)
        {
            _items.Add(InputObject);
        }
    }

    protected override void EndProcessing()
    {
        object? KeyOf(PSObject item) => Property is null ? item.BaseObject : item.Properties[Property]?.Value;
        var sorted = _items.Select(i => (Key: KeyOf(i), Item: i)).ToList();
        sorted.Sort((a, b) => (Descending ? -1 : 1) * LanguagePrimitives.Compare(a.Key, b.Key, ignoreCase: true));
        object? last = null;
        var first = true;
        foreach (var (key, item) in sorted)
        {
            if (Unique && !first && LanguagePrimitives.Compare(key, last, ignoreCase: true) == 0)
            {
                continue;
            }

            WriteObject(item);
            (last, first) = (key, false);
        }
    }
}
