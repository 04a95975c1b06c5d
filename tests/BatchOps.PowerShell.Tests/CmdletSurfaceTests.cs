using System.Reflection;
using System.Text.RegularExpressions;
using BatchOps.Packager;

namespace BatchOps.PowerShell.Tests;

/// <summary>The PowerShell surface of the packaged module, checked statically (no PowerShell host runs here).</summary>
[Collection(PackagedModuleCollection.Name)]
public partial class CmdletSurfaceTests(PackagedModuleFixture module)
{
    private static readonly string[] Expected =
    [
        "Export-BatchJob", "Get-BatchItem", "Get-BatchJob", "Get-BatchStatistics", "Get-BatchWorker", "Invoke-BatchJob",
        "New-BatchJob", "Remove-BatchJob", "Restart-BatchFailed", "Start-BatchDashboard", "Start-BatchWorker",
        "Stop-BatchDashboard", "Stop-BatchJob", "Stop-BatchWorker", "Undo-BatchJob", "Wait-BatchJob", "Write-BatchTable",
    ];

    public static TheoryData<string> CmdletNames => [.. Expected];

    [Fact]
    public void Assembly_DefinesExactlyTheDocumentedCmdlets() =>
        Assert.Equal(Expected, module.Cmdlets.Select(c => c.Name));

    [Fact]
    public void Manifest_ExportsExactlyTheCmdletsTheAssemblyDefines()
    {
        var manifest = File.ReadAllText(Path.Combine(module.ModuleFolder, "BatchOps.psd1"));
        var list = CmdletsToExport().Match(manifest);
        Assert.True(list.Success, "CmdletsToExport is missing from BatchOps.psd1.");
        var exported = QuotedName().Matches(list.Groups[1].Value).Select(m => m.Groups[1].Value).Order(StringComparer.Ordinal);

        Assert.Equal(module.Cmdlets.Select(c => c.Name), exported);
    }

    [Theory]
    [InlineData("RootModule", "'BatchOps.dll'")]
    [InlineData("PowerShellVersion", "'7.4'")]
    [InlineData("CompatiblePSEditions", "@('Core')")]
    [InlineData("FormatsToProcess", "@('BatchOps.format.ps1xml')")]
    [InlineData("FunctionsToExport", "@()")]
    [InlineData("AliasesToExport", "@()")]
    public void Manifest_DeclaresWhatPowerShellNeeds(string key, string value)
    {
        var manifest = File.ReadAllText(Path.Combine(module.ModuleFolder, "BatchOps.psd1"));

        Assert.Matches(new Regex($@"(?m)^\s*{key}\s*=\s*{Regex.Escape(value)}"), manifest);
        Assert.Matches(@"(?m)^\s*Description\s*=\s*'.{40,}'", manifest);
        Assert.Matches(@"Tags\s*=\s*@\('batch'", manifest);
    }

    [Theory]
    [MemberData(nameof(CmdletNames))]
    public void Cmdlet_UsesAnApprovedVerb(string name)
    {
        var sma = module.Context.LoadFromAssemblyPath(CmdletMetadata.FindSystemManagementAutomation());
        var approved = new[] { "VerbsCommon", "VerbsCommunications", "VerbsData", "VerbsDiagnostic", "VerbsLifecycle", "VerbsOther", "VerbsSecurity" }
            .SelectMany(t => sma.GetType($"System.Management.Automation.{t}", throwOnError: true)!.GetFields(BindingFlags.Public | BindingFlags.Static))
            .Select(f => (string)f.GetRawConstantValue()!)
            .ToHashSet(StringComparer.Ordinal);

        Assert.Contains(module[name].Verb, approved);
        Assert.Equal("Batch", module[name].Noun[..5]);
    }

    [Theory]
    [MemberData(nameof(CmdletNames))]
    public void Cmdlet_DeclaresOutputType(string name) => Assert.NotEmpty(module[name].OutputTypes);

    [Theory]
    [MemberData(nameof(CmdletNames))]
    public void Cmdlet_ParameterSetsResolve(string name)
    {
        var cmdlet = module[name];
        var sets = cmdlet.ParameterSets;
        if (cmdlet.DefaultParameterSet is { } defaultSet)
        {
            Assert.Contains(defaultSet, sets);
        }

        foreach (var set in sets)
        {
            var members = cmdlet.ParametersIn(set).ToList();
            var positions = members.Where(m => m.Entry.Position >= 0).Select(m => m.Entry.Position).ToList();
            Assert.True(positions.Count == positions.Distinct().Count(), $"{name}: two parameters share a position in set {set}.");
            Assert.True(members.Count(m => m.Entry.FromPipeline) <= 1, $"{name}: more than one ByValue pipeline parameter in set {set}.");
            // Every set but the default must own a mandatory parameter, or PowerShell cannot choose it.
            if (sets.Count > 1 && set != cmdlet.DefaultParameterSet)
            {
                var others = sets.Where(s => s != set).SelectMany(s => cmdlet.ParametersIn(s)).Select(m => m.Parameter.Name).ToHashSet();
                Assert.True(members.Any(m => m.Entry.Mandatory && !others.Contains(m.Parameter.Name)), $"{name}: set {set} has no mandatory parameter of its own, so PowerShell cannot tell it apart.");
            }
        }
    }

    [Theory]
    [MemberData(nameof(CmdletNames))]
    public void Cmdlet_MandatoryParametersHaveHelpMessages(string name)
    {
        foreach (var parameter in module[name].Parameters)
        {
            foreach (var entry in parameter.Sets.Where(s => s.Mandatory))
            {
                Assert.False(string.IsNullOrWhiteSpace(entry.HelpMessage), $"{name} -{parameter.Name} is mandatory without a HelpMessage.");
            }
        }
    }

    [Theory]
    [InlineData("New-BatchJob", true)]
    [InlineData("Invoke-BatchJob", true)]
    [InlineData("Stop-BatchJob", true)]
    [InlineData("Restart-BatchFailed", true)]
    [InlineData("Remove-BatchJob", true)]
    [InlineData("Export-BatchJob", true)]
    [InlineData("Get-BatchJob", false)]
    [InlineData("Get-BatchItem", false)]
    [InlineData("Get-BatchStatistics", false)]
    [InlineData("Get-BatchWorker", false)]
    [InlineData("Wait-BatchJob", false)]
    [InlineData("Write-BatchTable", true)]
    [InlineData("Start-BatchDashboard", false)]
    [InlineData("Start-BatchWorker", false)]
    [InlineData("Stop-BatchDashboard", true)]
    [InlineData("Stop-BatchWorker", true)]
    [InlineData("Undo-BatchJob", true)]
    public void Cmdlet_SupportsShouldProcessWhenItChangesOrStopsThings(string name, bool expected)
    {
        Assert.Equal(expected, module[name].SupportsShouldProcess);
        if (name is "Remove-BatchJob" or "Undo-BatchJob")
        {
            Assert.Equal("High", module[name].ConfirmImpact);
        }
    }

    [Fact]
    public void InvokeBatchJob_TakesItemsByValueAndJobsByPropertyName()
    {
        var invoke = module["Invoke-BatchJob"];

        var input = invoke.Parameters.Single(p => p.Name == "InputObject");
        Assert.All(input.Sets, s => Assert.True(s.FromPipeline));
        var script = invoke.Parameters.Single(p => p.Name == "ScriptBlock");
        Assert.Equal(0, script.Sets.Single().Position);
        var id = invoke.Parameters.Single(p => p.Name == "Id");
        Assert.True(id.Sets.Single().FromPipelineByPropertyName);
        Assert.Equal(["BatchOps.BatchBackgroundJob", "BatchOps.BatchItemResult"], invoke.OutputTypes.Order(StringComparer.Ordinal));
        Assert.Equal(["ChunkScriptBlock", "Id", "ScriptBlock", "Spec", "SpecPath", "Stage"], invoke.ParameterSets.Order(StringComparer.Ordinal));
        Assert.True(invoke.Parameters.Single(p => p.Name == "SpecPath").Sets.Single().Mandatory);
        Assert.True(invoke.Parameters.Single(p => p.Name == "Stage").Sets.Single().Mandatory);
    }

    [Theory]
    [InlineData("Stop-BatchJob")]
    [InlineData("Restart-BatchFailed")]
    [InlineData("Remove-BatchJob")]
    [InlineData("Get-BatchItem")]
    [InlineData("Export-BatchJob")]
    [InlineData("Wait-BatchJob")]
    public void JobCmdlets_BindJobIdsFromPipedObjectsAndCompleteThem(string name)
    {
        var id = module[name].Parameters.Single(p => p.Name == "Id");

        Assert.True(id.Sets.Single().FromPipelineByPropertyName);
        Assert.Contains("JobId", id.Aliases);
        Assert.True(id.HasCompleter);
    }

    [Fact]
    public void WriteBatchTable_TakesRowsByValue_ConnectionAndTableByPosition_AndModesFromASet()
    {
        var write = module["Write-BatchTable"];

        Assert.True(write.Parameters.Single(p => p.Name == "InputObject").Sets.Single().FromPipeline);
        Assert.Equal(0, write.Parameters.Single(p => p.Name == "Connection").Sets.Single().Position);
        Assert.Equal(1, write.Parameters.Single(p => p.Name == "Table").Sets.Single().Position);
        Assert.Equal(["BatchOps.BatchItemResult", "BatchOps.BatchJob"], write.OutputTypes.Order(StringComparer.Ordinal));
        Assert.Equal("Medium", write.ConfirmImpact);
    }

    [Fact]
    public void RestartBatchFailed_BindsItemIndexesFromPipedResults() =>
        Assert.True(module["Restart-BatchFailed"].Parameters.Single(p => p.Name == "Index").Sets.Single().FromPipelineByPropertyName);

    [Fact]
    public void Cmdlets_SettingParametersMatchTheEngineSettings()
    {
        foreach (var name in new[] { "Invoke-BatchJob", "New-BatchJob" })
        {
            var parameters = module[name].Parameters.Select(p => p.Name).ToHashSet();
            Assert.All(new[] { "ThrottleLimit", "ChunkSize", "RetryCount", "RetryDelay", "TimeoutSeconds", "JobTimeoutSeconds", "RateLimit", "StopOnError", "MaxErrors", "PreserveOrder", "Name", "Description", "Tag", "ArgumentList", "ImportModule", "Function" },
                p => Assert.Contains(p, parameters));
        }
    }

    [Fact]
    public void ExportedTypes_DoNotNeedTheEngineBeforeTheModuleInitializerRuns()
    {
        // PowerShell enumerates the exported types before it calls the module initializer that installs the
        // private load context; a base type or a value-type field from the engine would fail that load.
        var engine = module.Context.LoadFromAssemblyPath(Path.Combine(module.ModuleFolder, "Dependencies", "BatchOps.Engine.dll"));
        var sql = module.Context.LoadFromAssemblyPath(Path.Combine(module.ModuleFolder, "Dependencies", "BatchOps.Sql.dll"));
        bool Private(System.Reflection.Assembly assembly) => assembly == engine || assembly == sql;
        foreach (var type in module.Assembly.GetExportedTypes())
        {
            for (var baseType = type.BaseType; baseType is not null; baseType = baseType.BaseType)
            {
                Assert.False(Private(baseType.Assembly), $"{type.FullName} derives from {baseType.FullName} of a private assembly.");
            }

            Assert.All(type.GetInterfaces(), i => Assert.False(Private(i.Assembly), $"{type.FullName} implements {i.FullName} from a private assembly."));

            foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                Assert.False(field.FieldType.IsValueType && Private(field.FieldType.Assembly), $"{type.FullName}.{field.Name} is a value type from a private assembly.");
            }
        }

        Assert.Contains(module.Assembly.GetExportedTypes(), t => t.GetInterfaces().Any(i => i.FullName == "System.Management.Automation.IModuleAssemblyInitializer"));
    }

    [GeneratedRegex(@"CmdletsToExport\s*=\s*@\(([^)]*)\)")]
    private static partial Regex CmdletsToExport();

    [GeneratedRegex(@"'([A-Za-z]+-[A-Za-z]+)'")]
    private static partial Regex QuotedName();
}
