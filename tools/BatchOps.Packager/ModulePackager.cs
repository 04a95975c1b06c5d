using System.Diagnostics;

namespace BatchOps.Packager;

/// <summary>
/// Builds out/BatchOps: publishes the cmdlet project, puts BatchOps.dll in the module root (the default
/// load context) and everything else in Dependencies/ (the module's private load context), keeps the
/// native SQLite libraries of the supported platforms under Dependencies/runtimes/&lt;rid&gt;/native, copies the
/// manifest, formats and about topic, and generates the MAML help from docs/cmdlets.
/// </summary>
/// <param name="repositoryRoot">The folder holding BatchOps.sln.</param>
/// <param name="configuration">Build configuration to publish.</param>
/// <param name="outputFolder">Where the module is laid out; the default is out/BatchOps. Test runs that
/// happen at the same time lay out their own copies, so none deletes files another has loaded.</param>
public sealed class ModulePackager(string repositoryRoot, string configuration = "Release", string? outputFolder = null)
{
    /// <summary>Platforms whose native libraries ship with the module.</summary>
    public static readonly string[] SupportedRuntimes =
        ["win-x64", "win-x86", "win-arm64", "linux-x64", "linux-arm64", "linux-arm", "linux-musl-x64", "linux-musl-arm64", "osx-x64", "osx-arm64"];

    /// <summary>The module's subfolder holding the batchops command (batchops.dll) that Start-BatchDashboard runs.</summary>
    public const string ServerFolder = "server";

    public string RepositoryRoot { get; } = Path.GetFullPath(repositoryRoot);

    public string OutputFolder { get; } = Path.GetFullPath(outputFolder ?? Path.Combine(repositoryRoot, "out", "BatchOps"));

    /// <summary>Finds the repository root (the folder holding BatchOps.sln) from a folder inside it.</summary>
    public static string FindRepositoryRoot(string start)
    {
        for (var folder = new DirectoryInfo(start); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "BatchOps.sln")))
            {
                return folder.FullName;
            }
        }

        throw new DirectoryNotFoundException($"No BatchOps.sln in '{start}' or above it.");
    }

    /// <summary>Publishes and lays out the module; returns the module folder.</summary>
    public string Package(TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(log);

        // Two test assemblies may package at once; publishing one project twice at the same time clashes
        // in its obj/ folder, so packagers on this machine take turns.
        using var turn = TakeTurn(Path.Combine(RepositoryRoot, "obj", "package.lock"));
        var publish = Path.Combine(RepositoryRoot, "obj", "package", configuration);
        if (Directory.Exists(publish))
        {
            Directory.Delete(publish, recursive: true);
        }

        Run(log, "dotnet", "publish", Path.Combine(RepositoryRoot, "src", "BatchOps.PowerShell", "BatchOps.PowerShell.csproj"), "-c", configuration, "-o", publish, "--nologo", "-v", "quiet");
        var server = Path.Combine(publish, "server");
        Run(log, "dotnet", "publish", Path.Combine(RepositoryRoot, "src", "BatchOps.Cli", "BatchOps.Cli.csproj"), "-c", configuration, "-o", server, "-p:UseAppHost=false", "--nologo", "-v", "quiet");
        Layout(publish);
        LayoutServer(server);
        WriteHelp();
        log.WriteLine($"Module laid out in {OutputFolder}");
        return OutputFolder;
    }

    private void Layout(string publish)
    {
        if (Directory.Exists(OutputFolder))
        {
            Directory.Delete(OutputFolder, recursive: true);
        }

        var dependencies = Directory.CreateDirectory(Path.Combine(OutputFolder, "Dependencies")).FullName;
        foreach (var file in Directory.GetFiles(publish))
        {
            var name = Path.GetFileName(file);
            if (name.EndsWith(".deps.json", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".xml", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var isCmdletAssembly = string.Equals(Path.GetFileNameWithoutExtension(name), "BatchOps", StringComparison.OrdinalIgnoreCase);
            File.Copy(file, Path.Combine(isCmdletAssembly ? OutputFolder : dependencies, name));
        }

        foreach (var rid in SupportedRuntimes)
        {
            var native = Path.Combine(publish, "runtimes", rid, "native");
            if (!Directory.Exists(native))
            {
                continue;
            }

            var target = Directory.CreateDirectory(Path.Combine(dependencies, "runtimes", rid, "native")).FullName;
            foreach (var file in Directory.GetFiles(native))
            {
                File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
            }
        }

        File.Copy(Path.Combine(RepositoryRoot, "BatchOps.psd1"), Path.Combine(OutputFolder, "BatchOps.psd1"));
        foreach (var file in Directory.GetFiles(Path.Combine(RepositoryRoot, "module"), "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(Path.Combine(RepositoryRoot, "module"), file);
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(OutputFolder, relative))!);
            File.Copy(file, Path.Combine(OutputFolder, relative));
        }
    }

    /// <summary>
    /// The batchops command (framework-dependent, no native launcher) in <see cref="ServerFolder"/>: what
    /// Start-BatchDashboard runs with the machine's dotnet and its ASP.NET Core runtime.
    /// </summary>
    private void LayoutServer(string server)
    {
        var target = Directory.CreateDirectory(Path.Combine(OutputFolder, ServerFolder)).FullName;
        foreach (var file in Directory.GetFiles(server, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(server, file);
            var unsupported = relative.StartsWith("runtimes", StringComparison.Ordinal) && !SupportedRuntimes.Any(rid => relative.StartsWith(Path.Combine("runtimes", rid), StringComparison.Ordinal));
            if (unsupported || relative.EndsWith(".xml", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(target, relative))!);
            File.Copy(file, Path.Combine(target, relative));
        }
    }

    private void WriteHelp()
    {
        var assembly = Path.Combine(OutputFolder, "BatchOps.dll");
        using var context = CmdletMetadata.OpenContext(assembly, Path.Combine(OutputFolder, "Dependencies"));
        var cmdlets = CmdletMetadata.Read(context.LoadFromAssemblyPath(assembly));
        var docs = LoadDocs(RepositoryRoot);
        var help = MamlWriter.Write(cmdlets, docs);
        var folder = Directory.CreateDirectory(Path.Combine(OutputFolder, "en-US")).FullName;
        help.Save(Path.Combine(folder, "BatchOps.dll-Help.xml"));
    }

    /// <summary>
    /// Reads every docs/cmdlets/*.md, keyed by cmdlet name. Files named _*.md are shared fragments: a line
    /// {{include _name.md}} in a cmdlet's file is replaced by the fragment.
    /// </summary>
    public static Dictionary<string, CmdletHelpDocument> LoadDocs(string repositoryRoot)
    {
        var folder = Path.Combine(repositoryRoot, "docs", "cmdlets");
        return Directory.GetFiles(folder, "*.md")
            .Where(f => !Path.GetFileName(f).StartsWith('_'))
            .Select(f => CmdletHelpDocument.Parse(string.Join('\n', File.ReadAllLines(f).Select(line =>
                line.StartsWith("{{include ", StringComparison.Ordinal) && line.EndsWith("}}", StringComparison.Ordinal)
                    ? File.ReadAllText(Path.Combine(folder, line["{{include ".Length..^2].Trim()))
                    : line))))
            .ToDictionary(d => d.Name, StringComparer.OrdinalIgnoreCase);
    }

    private static FileStream TakeTurn(string lockFile)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(lockFile)!);
        var waited = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new FileStream(lockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
            }
            catch (IOException) when (waited.Elapsed < TimeSpan.FromMinutes(10))
            {
                Thread.Sleep(200);
            }
        }
    }

    private static void Run(TextWriter log, string command, params string[] args)
    {
        var start = new ProcessStartInfo(command) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            log.WriteLine(output.Result);
            log.WriteLine(error.Result);
            throw new InvalidOperationException($"{command} {string.Join(' ', args)} failed with exit code {process.ExitCode}.");
        }
    }
}
