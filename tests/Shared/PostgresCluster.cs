using System.Diagnostics;
using Npgsql;

namespace BatchOps.Testing;

/// <summary>
/// A throwaway PostgreSQL cluster from the machine's own binaries (Debian's postgresql package): initdb in
/// a temp folder, started with pg_ctl listening only on a Unix socket in that folder, stopped and deleted
/// on dispose. As root (CI containers) the server runs as the package's postgres user, as PostgreSQL
/// refuses to run as root. Used by the tests (through <c>PostgresServer</c>) and the benchmarks.
/// </summary>
public sealed class PostgresCluster : IAsyncDisposable
{
    private const string User = "batchops";
    private string? _folder;
    private string? _bin;
    private int _databases;

    /// <summary>Why the server is not there, or null when it runs.</summary>
    public string? Missing { get; private set; }

    /// <summary>Creates and starts the cluster; sets <see cref="Missing"/> instead when PostgreSQL is not installed.</summary>
    public async Task StartAsync()
    {
        _bin = FindBin();
        if (_bin is null)
        {
            Missing = "PostgreSQL is not installed (no initdb on PATH or under /usr/lib/postgresql/*/bin). Install Debian's package: sudo apt-get install -y postgresql (.ci/run does this).";
            return;
        }

        _folder = Path.Combine(Path.GetTempPath(), $"batchops-pg-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}");
        Directory.CreateDirectory(_folder);
        if (Environment.UserName == "root")
        {
            await RunAsync("chown", "postgres:postgres", _folder);
        }

        var data = Path.Combine(_folder, "data");
        await RunPgAsync("initdb", "-D", data, "-U", User, "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions");
        await RunPgAsync("pg_ctl", "-D", data, "-l", Path.Combine(_folder, "server.log"), "-w", "-t", "60",
            "-o", $"-c listen_addresses='' -k {_folder} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", "start");
    }

    /// <summary>A new empty database; its connection string (no password: trust over the Unix socket).</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        if (Missing is not null)
        {
            throw new InvalidOperationException(Missing);
        }

        var name = $"test{Interlocked.Increment(ref _databases)}";
        await using (var admin = new NpgsqlConnection(ConnectionString("postgres")))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", admin);
            await create.ExecuteNonQueryAsync();
        }

        return ConnectionString(name);
    }

    public async ValueTask DisposeAsync()
    {
        if (_folder is null)
        {
            return;
        }

        try
        {
            await RunPgAsync("pg_ctl", "-D", Path.Combine(_folder, "data"), "-m", "immediate", "-w", "stop");
        }
        catch (InvalidOperationException)
        {
            // already stopped
        }

        NpgsqlConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    private string ConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder { Host = _folder, Username = User, Database = database, Pooling = true }.ConnectionString;

    private static string? FindBin()
    {
        foreach (var folder in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':'))
        {
            if (File.Exists(Path.Combine(folder, "initdb")) && File.Exists(Path.Combine(folder, "pg_ctl")))
            {
                return folder;
            }
        }

        const string debian = "/usr/lib/postgresql";
        return Directory.Exists(debian)
            ? Directory.GetDirectories(debian).Select(v => Path.Combine(v, "bin")).Where(b => File.Exists(Path.Combine(b, "initdb")))
                .OrderByDescending(b => int.TryParse(Path.GetFileName(Path.GetDirectoryName(b)), out var major) ? major : 0).FirstOrDefault()
            : null;
    }

    private Task RunPgAsync(string tool, params string[] args) =>
        Environment.UserName == "root"
            ? RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(_bin!, tool), .. args])
            : RunAsync(Path.Combine(_bin!, tool), args);

    private static async Task RunAsync(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = "/" };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} exited with {process.ExitCode}: {await output}{await error}");
        }
    }
}
