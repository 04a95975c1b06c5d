using System.Runtime.InteropServices;
using System.Runtime.Loader;
using BatchOps.PowerShell.Loading;

namespace BatchOps.PowerShell.Tests;

/// <summary>
/// The module's private load context against the packaged out/BatchOps: a broken layout or an unfound native
/// SQLite library fails here, not on a user's machine. This test assembly does not reference the engine,
/// so nothing in the default context can stand in for what the context fails to load.
/// </summary>
[Collection(PackagedModuleCollection.Name)]
public class ModuleLoadContextTests(PackagedModuleFixture module) : IDisposable
{
    private readonly string _store = Path.Combine(Path.GetTempPath(), "batchops-alc-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        if (Directory.Exists(_store))
        {
            Directory.Delete(_store, recursive: true);
        }
    }

    [Fact]
    public async Task Install_LoadsTheEngineFromDependenciesAndRunsADurableJob()
    {
        var context = ModuleLoadContext.Install(module.ModuleFolder);

        // The default context resolves the engine through the hook, into the private context.
        var engine = AssemblyLoadContext.Default.LoadFromAssemblyName(new System.Reflection.AssemblyName("BatchOps.Engine"));
        Assert.Same(context, AssemblyLoadContext.GetLoadContext(engine));
        Assert.StartsWith(context.DependenciesFolder, engine.Location, StringComparison.Ordinal);

        var selfTest = engine.GetType("BatchOps.Engine.Diagnostics.EngineSelfTest", throwOnError: true)!;
        var run = (Task<string>)selfTest.GetMethod("RunAsync")!.Invoke(null, [_store])!;
        var outcome = await run;

        Assert.StartsWith("Completed 20/20 with SQLite 3.", outcome, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_store, "batchops.db")));
        foreach (var name in new[] { "Polly.Core", "Microsoft.Data.Sqlite", "SQLitePCLRaw.core" })
        {
            var loaded = context.Assemblies.SingleOrDefault(a => a.GetName().Name == name);
            Assert.True(loaded is not null, $"{name} did not load in the module's context.");
            Assert.DoesNotContain(AssemblyLoadContext.Default.Assemblies, a => a.GetName().Name == name);
        }

        var maps = File.ReadAllText("/proc/self/maps");
        Assert.Contains(Path.Combine(context.DependenciesFolder, "runtimes", "linux-x64", "native", "libe_sqlite3.so"), maps, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Windows", Architecture.X64, false, "win-x64")]
    [InlineData("OSX", Architecture.Arm64, false, "osx-arm64")]
    [InlineData("Linux", Architecture.X64, false, "linux-x64")]
    [InlineData("Linux", Architecture.Arm64, true, "linux-musl-arm64,linux-arm64")]
    public void CandidateRuntimeIds_PickTheMostSpecificFirst(string os, Architecture architecture, bool musl, string expected)
    {
        var platform = OSPlatform.Create(os.ToUpperInvariant() == "OSX" ? "OSX" : os.ToUpperInvariant());

        Assert.Equal(expected.Split(','), ModuleLoadContext.CandidateRuntimeIds(platform, architecture, musl));
    }

    [Theory]
    [InlineData("e_sqlite3", "Windows", "e_sqlite3.dll")]
    [InlineData("e_sqlite3", "Linux", "libe_sqlite3.so")]
    [InlineData("libe_sqlite3.so", "Linux", "libe_sqlite3.so")]
    [InlineData("e_sqlite3", "OSX", "libe_sqlite3.dylib")]
    public void NativeFileNames_FollowEachPlatformsConvention(string name, string os, string first) =>
        Assert.Equal(first, ModuleLoadContext.NativeFileNames(name, OSPlatform.Create(os.ToUpperInvariant() == "OSX" ? "OSX" : os.ToUpperInvariant()))[0]);

    [Fact]
    public void AShippedAssemblyTheRuntimeHasAtThatVersionOrLater_LoadsFromTheFramework_SoTelemetryIsSharedWithTheSession()
    {
        var context = ModuleLoadContext.Install(module.ModuleFolder);
        Assert.True(File.Exists(Path.Combine(context.DependenciesFolder, "System.Diagnostics.DiagnosticSource.dll")), "Npgsql's DiagnosticSource package copy is shipped for older runtimes");

        // What Npgsql asks for (9.0) this runtime has: the framework's copy, shared with every listener and exporter.
        Assert.True(ModuleLoadContext.FrameworkProvides(new System.Reflection.AssemblyName("System.Diagnostics.DiagnosticSource, Version=9.0.0.0")));
        var loaded = context.LoadFromAssemblyName(new System.Reflection.AssemblyName("System.Diagnostics.DiagnosticSource, Version=9.0.0.0"));
        Assert.Same(typeof(System.Diagnostics.ActivitySource).Assembly, loaded);

        // A version the runtime lacks, and what the runtime does not have at all, stay the module's own.
        Assert.False(ModuleLoadContext.FrameworkProvides(new System.Reflection.AssemblyName("System.Diagnostics.DiagnosticSource, Version=99.0.0.0")));
        Assert.False(ModuleLoadContext.FrameworkProvides(new System.Reflection.AssemblyName("Newtonsoft.Json, Version=13.0.0.0")));
        Assert.Same(context, AssemblyLoadContext.GetLoadContext(context.LoadFromAssemblyName(new System.Reflection.AssemblyName("Newtonsoft.Json"))));
    }

    [Fact]
    public void NativeLibraryCandidates_PointIntoThePackagedRuntimesFolder()
    {
        var context = new ModuleLoadContext(Path.Combine(module.ModuleFolder, "Dependencies"));

        var first = context.NativeLibraryCandidates("e_sqlite3").First();

        Assert.True(File.Exists(first), $"{first} does not exist in the package.");
    }
}
