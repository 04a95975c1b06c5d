using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace BatchOps.PowerShell.Dashboard;

/// <summary>
/// Runs the dashboard for the module: the packaged batchops command (<c>server/batchops.dll</c>, framework-
/// dependent) started as <c>dotnet batchops.dll serve</c> with the machine's dotnet host and ASP.NET Core
/// runtime, which PowerShell itself does not carry; and stops it again, gracefully where the platform can.
/// </summary>
internal static class DashboardServer
{
    /// <summary>Names the dotnet executable to use instead of searching for one.</summary>
    public const string DotnetVariable = "BATCHOPS_DOTNET";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Servers this PowerShell process started, by process id (kept so their output keeps draining).</summary>
    private static readonly ConcurrentDictionary<int, Process> Started = new();

    /// <summary>The packaged batchops command beside the module assembly.</summary>
    public static string ServerAssembly =>
        Path.Combine(Path.GetDirectoryName(typeof(DashboardServer).Assembly.Location)!, "server", "batchops.dll");

    /// <summary>
    /// Starts <c>batchops serve</c> on 127.0.0.1:<paramref name="port"/> (0: any free port) over the store in
    /// <paramref name="storeFolder"/> and waits until it listens; returns the process and the URL it serves.
    /// </summary>
    /// <exception cref="DashboardException">The server, dotnet or its runtime is missing, or the server did not start (with its own message).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired first (Ctrl+C); the server was ended.</exception>
    public static (Process Process, string Url) Start(int port, string storeFolder, string? token, bool readOnly, CancellationToken cancellationToken)
    {
        var server = ServerAssembly;
        if (!File.Exists(server))
        {
            throw new DashboardException(
                $"The dashboard server is missing from the module: '{server}' does not exist. Reinstall the BatchOps module (or, in a source tree, run ./build.ps1 -Task Package and import out/BatchOps).");
        }

        var dotnet = FindDotnet();
        RequireRuntimes(dotnet, server);
        var start = new ProcessStartInfo(dotnet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            CreateNoWindow = true,
        };
        foreach (var arg in new[] { server, "serve", "--urls", $"http://127.0.0.1:{port}", "--store", storeFolder })
        {
            start.ArgumentList.Add(arg);
        }

        if (readOnly)
        {
            start.ArgumentList.Add("--read-only");
        }

        // The token goes through the environment, not the command line, which other users can read.
        if (token is null)
        {
            start.Environment.Remove("BATCHOPS_TOKEN");
            start.ArgumentList.Add("--no-token");
        }
        else
        {
            start.Environment["BATCHOPS_TOKEN"] = token;
        }
        var process = Process.Start(start) ?? throw new DashboardException($"'{dotnet}' could not be started.");
        string? url;
        try
        {
            url = WaitForBanner(process, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            process.Dispose();
            throw;
        }

        if (url is null)
        {
            // Its output ended (it is exiting) or it never said it listens: give it a moment, then end it.
            if (!process.WaitForExit(5000))
            {
                process.Kill();
                process.WaitForExit(5000);
            }

            var error = process.StandardError.ReadToEnd().Trim();
            process.Dispose();
            throw new DashboardException(
                error.Contains("address already in use", StringComparison.OrdinalIgnoreCase) ? $"Port {port} on 127.0.0.1 is taken (address already in use): choose another -Port, or -Port 0 for any free one."
                : string.IsNullOrEmpty(error) ? $"The dashboard server did not start listening within {StartTimeout.TotalSeconds} s."
                : $"The dashboard server did not start: {FirstLine(error)}");
        }

        // Keep reading what it writes, so it never blocks on a full pipe.
        _ = process.StandardOutput.BaseStream.CopyToAsync(Stream.Null);
        _ = process.StandardError.BaseStream.CopyToAsync(Stream.Null);
        Started[process.Id] = process;
        return (process, url);
    }

    /// <summary>A fresh token for a dashboard: 256 random bits as hex.</summary>
    public static string NewToken() => Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)).ToLowerInvariant();

    /// <summary>
    /// Whether <paramref name="processId"/> is a dashboard server: one this session started, or (on Linux,
    /// where the command line is readable) any process running <c>batchops.dll serve</c>.
    /// </summary>
    public static bool IsDashboard(int processId)
    {
        if (Started.TryGetValue(processId, out var known) && !HasExited(known))
        {
            return true;
        }

        try
        {
            var arguments = File.ReadAllText($"/proc/{processId}/cmdline").Split('\0');
            return arguments.Any(a => a.EndsWith("batchops.dll", StringComparison.Ordinal)) && arguments.Contains("serve");
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>
    /// Stops a dashboard server: SIGTERM where there are signals (it stops serving and lets jobs it runs end
    /// their chunk), a kill after <see cref="StopTimeout"/> or where there are none. False when it is gone already.
    /// </summary>
    public static bool Stop(int processId)
    {
        Started.TryRemove(processId, out var started);
        using var process = started ?? TryGetProcess(processId);
        if (process is null || HasExited(process))
        {
            return false;
        }

        if (!OperatingSystem.IsWindows() && Kill(processId, 15) == 0 && process.WaitForExit((int)StopTimeout.TotalMilliseconds))
        {
            return true;
        }

        process.Kill(entireProcessTree: true);
        process.WaitForExit((int)StopTimeout.TotalMilliseconds);
        return true;
    }

    /// <summary>The dotnet executable: <see cref="DotnetVariable"/>, else DOTNET_ROOT, else PATH, else the usual install folders.</summary>
    private static string FindDotnet()
    {
        var name = OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet";
        if (Environment.GetEnvironmentVariable(DotnetVariable) is { Length: > 0 } chosen)
        {
            return File.Exists(chosen)
                ? chosen
                : throw new DashboardException($"{DotnetVariable} names '{chosen}', which does not exist. Point it at the dotnet executable, or remove it to search PATH.");
        }

        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable("DOTNET_ROOT") is { Length: > 0 } root)
        {
            candidates.Add(Path.Combine(root, name));
        }

        candidates.AddRange((Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, name)));
        candidates.AddRange(OperatingSystem.IsWindows()
            ? [Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.ProgramFiles), "dotnet", name)]
            : ["/usr/share/dotnet/dotnet", "/usr/lib/dotnet/dotnet", "/usr/local/share/dotnet/dotnet", "/opt/homebrew/opt/dotnet/libexec/dotnet"]);
        if (candidates.FirstOrDefault(File.Exists) is { } found)
        {
            return found;
        }

        var version = RequiredVersion(ServerAssembly);
        throw new DashboardException(
            $"The dashboard needs the ASP.NET Core Runtime {version} and no dotnet was found (searched DOTNET_ROOT, PATH and the usual install folders). " +
            $"{HowToInstall(version)} Or set {DotnetVariable} to the dotnet executable.");
    }

    /// <summary>Checks that dotnet has every shared framework the server's runtimeconfig names, at its major.minor (the default roll-forward).</summary>
    private static void RequireRuntimes(string dotnet, string server)
    {
        var required = RequiredFrameworks(server);
        var installed = ListRuntimes(dotnet);
        foreach (var (framework, version) in required)
        {
            var found = installed.Any(r => r.Name == framework && r.Version.Major == version.Major && r.Version >= version);
            if (!found)
            {
                var have = installed.Where(r => r.Name == framework).Select(r => r.Version.ToString()).ToList();
                throw new DashboardException(
                    $"The dashboard needs {framework} {version.Major}.{version.Minor} (the ASP.NET Core Runtime {version.Major}.{version.Minor}), which '{dotnet}' does not have " +
                    $"({(have.Count == 0 ? "none installed" : "it has " + string.Join(", ", have))}). {HowToInstall($"{version.Major}.{version.Minor}")}");
            }
        }
    }

    private static string HowToInstall(string version) =>
        $"Install the ASP.NET Core Runtime {version}: 'sudo apt-get install aspnetcore-runtime-{version}' (Debian, Ubuntu), 'winget install Microsoft.DotNet.AspNetCore.{version.Split('.')[0]}' (Windows), " +
        $"or from https://dotnet.microsoft.com/download/dotnet/{version}.";

    private static string RequiredVersion(string server) =>
        RequiredFrameworks(server).Select(f => $"{f.Version.Major}.{f.Version.Minor}").FirstOrDefault() ?? "10.0";

    /// <summary>The shared frameworks (name, version) in the server's runtimeconfig.json.</summary>
    private static List<(string Name, Version Version)> RequiredFrameworks(string server)
    {
        var config = Path.ChangeExtension(server, ".runtimeconfig.json");
        using var document = JsonDocument.Parse(File.ReadAllText(config));
        var options = document.RootElement.GetProperty("runtimeOptions");
        var frameworks = options.TryGetProperty("frameworks", out var list) ? list.EnumerateArray().ToList() : [options.GetProperty("framework")];
        return frameworks.Select(f => (f.GetProperty("name").GetString()!, Version.Parse(f.GetProperty("version").GetString()!))).ToList();
    }

    /// <summary>What <c>dotnet --list-runtimes</c> reports: lines like "Microsoft.AspNetCore.App 10.0.1 [/usr/share/dotnet/shared/Microsoft.AspNetCore.App]".</summary>
    private static List<(string Name, Version Version)> ListRuntimes(string dotnet)
    {
        var start = new ProcessStartInfo(dotnet, "--list-runtimes") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, CreateNoWindow = true };
        try
        {
            using var process = Process.Start(start)!;
            var error = process.StandardError.ReadToEndAsync();
            var lines = process.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            process.WaitForExit();
            _ = error.Result;
            return lines
                .Select(line => line.Split(' ', 3))
                .Where(parts => parts.Length >= 2 && Version.TryParse(parts[1].Split('-')[0], out _))
                .Select(parts => (parts[0], Version.Parse(parts[1].Split('-')[0])))
                .ToList();
        }
        catch (Win32Exception error)
        {
            throw new DashboardException($"'{dotnet}' could not be run ({error.Message}). Set {DotnetVariable} to a working dotnet executable.");
        }
    }

    /// <summary>Reads the server's lines until "Serving … at URL…"; null when it ends or times out first.</summary>
    private static string? WaitForBanner(Process process, CancellationToken cancellationToken)
    {
        var read = Task.Run(() =>
        {
            while (process.StandardOutput.ReadLine() is { } line)
            {
                if (line.StartsWith("Serving ", StringComparison.Ordinal))
                {
                    var at = line.IndexOf(" at http", StringComparison.Ordinal);
                    return at < 0 ? null : line[(at + 4)..].Split([',', ';', ' '], 2)[0];
                }
            }

            return null;
        });
        return read.Wait(StartTimeout, cancellationToken) ? read.Result : null;
    }

    private static string FirstLine(string text)
    {
        var line = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault(l => !l.StartsWith("at ", StringComparison.Ordinal)) ?? text;
        return line.EndsWith('.') ? line : line + ".";
    }

    private static Process? TryGetProcess(int processId)
    {
        try
        {
            return Process.GetProcessById(processId);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static bool HasExited(Process process)
    {
        try
        {
            return process.HasExited;
        }
        catch (InvalidOperationException)
        {
            return true;
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
#pragma warning disable SYSLIB1054 // LibraryImport would need unsafe code in the module for one blittable call.
    private static extern int Kill(int pid, int signal);
#pragma warning restore SYSLIB1054
}

/// <summary>The dashboard cannot start (or stop): the message names the cause and the fix.</summary>
public sealed class DashboardException(string message) : Exception(message);
