using System.Reflection;
using BatchOps.Packager;

namespace BatchOps.PowerShell.Tests;

/// <summary>Packages out/BatchOps once per test run (as .ci/run and build.ps1 -Task Package do) and reads its cmdlets.</summary>
public sealed class PackagedModuleFixture : IDisposable
{
    public PackagedModuleFixture()
    {
        Root = ModulePackager.FindRepositoryRoot(AppContext.BaseDirectory);
        var log = new StringWriter();
        ModuleFolder = new ModulePackager(Root, "Release").Package(log);
        Context = CmdletMetadata.OpenContext(Path.Combine(ModuleFolder, "BatchOps.dll"), Path.Combine(ModuleFolder, "Dependencies"));
        Assembly = Context.LoadFromAssemblyPath(Path.Combine(ModuleFolder, "BatchOps.dll"));
        Cmdlets = CmdletMetadata.Read(Assembly);
        Docs = ModulePackager.LoadDocs(Root);
    }

    public string Root { get; }

    public string ModuleFolder { get; }

    public MetadataLoadContext Context { get; }

    public Assembly Assembly { get; }

    public IReadOnlyList<CmdletModel> Cmdlets { get; }

    public IReadOnlyDictionary<string, CmdletHelpDocument> Docs { get; }

    public CmdletModel this[string name] => Cmdlets.Single(c => c.Name == name);

    public void Dispose() => Context.Dispose();
}

[CollectionDefinition(Name)]
public sealed class PackagedModuleCollection : ICollectionFixture<PackagedModuleFixture>
{
    public const string Name = "Packaged module";
}
