using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;

namespace BatchOps.PowerShell.Loading;

/// <summary>
/// The private load context of the module. PowerShell loads every module into one shared context, so a
/// module that ships Polly or SQLite would clash with any other module that loaded another version. The
/// cmdlet assembly stays in the default context; the engine and all its dependencies load from the
/// module's Dependencies/ folder into this context, and SQLite's native library is found there too
/// (runtimes/&lt;rid&gt;/native, which PowerShell does not probe). This class uses no PowerShell types,
/// so it is tested directly against the packaged module.
/// </summary>
public sealed class ModuleLoadContext : AssemblyLoadContext
{
    /// <summary>Assemblies the default context asks this context for (the ones the cmdlets reference directly).</summary>
    public static readonly string[] SharedAssemblies = ["BatchOps.Engine", "BatchOps.Sql", "BatchOps.Postgres", "BatchOps.Operations"];

    private static readonly object InstallLock = new();
    private static ModuleLoadContext? s_installed;

    private readonly string _dependencies;

    /// <summary>Creates a context that loads from <paramref name="dependenciesFolder"/>.</summary>
    public ModuleLoadContext(string dependenciesFolder)
        : base("BatchOps", isCollectible: false)
    {
        ArgumentException.ThrowIfNullOrEmpty(dependenciesFolder);
        _dependencies = Path.GetFullPath(dependenciesFolder);
    }

    /// <summary>The folder assemblies and native libraries load from.</summary>
    public string DependenciesFolder => _dependencies;

    /// <summary>
    /// Creates the context for the module in <paramref name="moduleFolder"/> (once per process) and lets the
    /// default context resolve the engine through it. Called by the module initializer on Import-Module.
    /// </summary>
    public static ModuleLoadContext Install(string moduleFolder)
    {
        lock (InstallLock)
        {
            if (s_installed is not null)
            {
                return s_installed;
            }

            var context = new ModuleLoadContext(Path.Combine(moduleFolder, "Dependencies"));
            Default.Resolving += context.ResolveForDefault;
            s_installed = context;
            return context;
        }
    }

    /// <summary>
    /// Runtime identifiers to probe for native libraries on this machine, most specific first
    /// (for example linux-musl-x64, then linux-x64).
    /// </summary>
    public static IReadOnlyList<string> CandidateRuntimeIds(OSPlatform platform, Architecture architecture, bool isMusl)
    {
        var arch = architecture switch
        {
            Architecture.X64 => "x64",
            Architecture.X86 => "x86",
            Architecture.Arm64 => "arm64",
            Architecture.Arm => "arm",
            _ => architecture.ToString().ToLowerInvariant(),
        };
        if (platform == OSPlatform.Windows)
        {
            return [$"win-{arch}"];
        }

        if (platform == OSPlatform.OSX)
        {
            return [$"osx-{arch}"];
        }

        return isMusl ? [$"linux-musl-{arch}", $"linux-{arch}"] : [$"linux-{arch}"];
    }

    /// <summary>File names a native library may have on a platform: e_sqlite3.dll, libe_sqlite3.so, libe_sqlite3.dylib.</summary>
    public static IReadOnlyList<string> NativeFileNames(string name, OSPlatform platform)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var bare = name.StartsWith("lib", StringComparison.Ordinal) ? name[3..] : name;
        foreach (var suffix in new[] { ".dll", ".so", ".dylib" })
        {
            if (bare.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                bare = bare[..^suffix.Length];
            }
        }

        if (platform == OSPlatform.Windows)
        {
            return [$"{bare}.dll"];
        }

        return platform == OSPlatform.OSX ? [$"lib{bare}.dylib", $"{bare}.dylib"] : [$"lib{bare}.so", $"{bare}.so"];
    }

    /// <summary>Where this context looks for a native library on the current machine, in order.</summary>
    public IEnumerable<string> NativeLibraryCandidates(string name)
    {
        var platform = CurrentPlatform();
        var files = NativeFileNames(name, platform);
        foreach (var rid in CandidateRuntimeIds(platform, RuntimeInformation.ProcessArchitecture, IsMusl()))
        {
            foreach (var file in files)
            {
                yield return Path.Combine(_dependencies, "runtimes", rid, "native", file);
            }
        }

        foreach (var file in files)
        {
            yield return Path.Combine(_dependencies, file);
        }
    }

    /// <inheritdoc/>
    protected override Assembly? Load(AssemblyName assemblyName)
    {
        // Only what ships in Dependencies/ loads here; everything else (the framework,
        // System.Management.Automation) comes from the default context, shared with PowerShell.
        var path = Path.Combine(_dependencies, assemblyName.Name + ".dll");
        return File.Exists(path) && !FrameworkProvides(assemblyName) ? LoadFromAssemblyPath(path) : null;
    }

    /// <summary>
    /// Whether the runtime PowerShell runs on has this assembly at the version asked for or later: then the
    /// framework's copy is used, shared with the rest of the process. What matters for
    /// System.Diagnostics.DiagnosticSource (a package dependency of Npgsql on .NET 8): with the framework's
    /// copy, the module's metrics and spans reach listeners and exporters loaded anywhere in the session.
    /// On an older runtime the shipped copy loads here, as before.
    /// </summary>
    public static bool FrameworkProvides(AssemblyName assemblyName)
    {
        ArgumentNullException.ThrowIfNull(assemblyName);
        var framework = Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), assemblyName.Name + ".dll");
        if (!File.Exists(framework))
        {
            return false;
        }

        try
        {
            return AssemblyName.GetAssemblyName(framework).Version is { } version && version >= (assemblyName.Version ?? new Version(0, 0));
        }
        catch (Exception error) when (error is BadImageFormatException or IOException)
        {
            return false;
        }
    }

    /// <inheritdoc/>
    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        foreach (var candidate in NativeLibraryCandidates(unmanagedDllName))
        {
            if (File.Exists(candidate))
            {
                return LoadUnmanagedDllFromPath(candidate);
            }
        }

        return IntPtr.Zero;
    }

    private static OSPlatform CurrentPlatform() =>
        OperatingSystem.IsWindows() ? OSPlatform.Windows : OperatingSystem.IsMacOS() ? OSPlatform.OSX : OSPlatform.Linux;

    private static bool IsMusl() =>
        OperatingSystem.IsLinux() && RuntimeInformation.RuntimeIdentifier.Contains("musl", StringComparison.OrdinalIgnoreCase)
        || (OperatingSystem.IsLinux() && File.Exists("/etc/alpine-release"));

    // Only when the file is there: without it this context would fall back to the default context,
    // which raises this event again, without end.
    private Assembly? ResolveForDefault(AssemblyLoadContext context, AssemblyName name) =>
        SharedAssemblies.Contains(name.Name, StringComparer.Ordinal) && File.Exists(Path.Combine(_dependencies, name.Name + ".dll"))
            ? LoadFromAssemblyName(name)
            : null;
}
