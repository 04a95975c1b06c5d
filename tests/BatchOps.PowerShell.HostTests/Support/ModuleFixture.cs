using BatchOps.Packager;

namespace BatchOps.PowerShell.HostTests.Support;

/// <summary>
/// Packages the module once per test run into its own folder (laid out exactly like out/BatchOps: the
/// same packager). Shared by every test class, so classes still run in parallel. The engine is
/// Microsoft.PowerShell.SDK: the built-in modules (Utility, Management) load from $PSHOME as in pwsh.
/// </summary>
public sealed class ModuleFixture
{
    private static readonly Lazy<ModuleFixture> Shared = new(() => new ModuleFixture());

    private ModuleFixture()
    {
        Root = ModulePackager.FindRepositoryRoot(AppContext.BaseDirectory);
        var output = Path.Combine(Root, "out", "host-tests", "BatchOps");
        ModuleFolder = new ModulePackager(Root, "Release", output).Package(new StringWriter());
    }

    public static ModuleFixture Instance => Shared.Value;

    public string Root { get; }

    /// <summary>The packaged module folder, imported by path as a user imports out/BatchOps.</summary>
    public string ModuleFolder { get; }
}
