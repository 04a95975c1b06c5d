using System.Management.Automation;

namespace BatchOps.PowerShell.Loading;

/// <summary>Runs on Import-Module, before any cmdlet touches the engine: installs the module's load context.</summary>
public sealed class ModuleInitializer : IModuleAssemblyInitializer
{
    /// <inheritdoc/>
    public void OnImport() =>
        ModuleLoadContext.Install(Path.GetDirectoryName(typeof(ModuleInitializer).Assembly.Location)!);
}
