using System.Diagnostics;
using System.Text;
using System.Text.Json;
using BatchOps.Cli.Tests.Support;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Tests.Support;
using BatchOps.Testing;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace BatchOps.Cli.Tests;

/// <summary>
/// A job is created whole or not at all: <c>batchops run</c> (SQLite) and <c>batchops submit</c>
/// (PostgreSQL) killed with SIGKILL at many moments while they record a 300,000-item job (inline items, an
/// items file, stages), and a disk that fills up during creation. Afterwards there is no job, or a job with
/// every item; never a Pending job with part of them.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class CreationKillTests(PostgresServer postgres) : IDisposable
{
    private const int Count = 300_000;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    public static TheoryData<string> Shapes => new() { "items", "itemsFile", "stages" };

    /// <summary>A spec of <see cref="Count"/> items whose operation takes a while, so a kill after creation finds it running.</summary>
    private string WriteSpec(string shape)
    {
        var operation = new { kind = "exec", command = "sleep", args = new[] { "5" } };
        // An items file's job records one range per chunk, quick at 1,000 items a chunk: small chunks give its
        // creation the length the kills need to land inside it.
        var settings = new { chunkSize = shape == "itemsFile" ? 5 : 1000, throttleLimit = 2 };
        var json = new StringBuilder();
        switch (shape)
        {
            case "itemsFile":
                var file = Path.Combine(_folder.Path, "items.jsonl");
                File.WriteAllLines(file, Enumerable.Range(0, Count).Select(n => $"{{\"n\":{n}}}"));
                return SpecFiles.Write(_folder.Path, new { name = "big", itemsFile = file, operation, settings }, "big.json");
            case "stages":
                var half = Enumerable.Range(0, Count / 2).Select(n => new { n }).ToArray();
                return SpecFiles.Write(_folder.Path, new
                {
                    name = "big",
                    settings,
                    stages = new object[]
                    {
                        new { name = "first", items = half, operation },
                        new { name = "second", dependsOn = new[] { "first" }, items = half, operation },
                    },
                }, "big.json");
            default:
                return SpecFiles.Write(_folder.Path, new { name = "big", items = Enumerable.Range(0, Count).Select(n => new { n }), operation, settings }, "big.json");
        }
    }

    /// <summary>How many jobs the store holds (in the creating state with <paramref name="creatingOnly"/>), read without opening it as a store (which would clean up).</summary>
    private static int CreatingInSqlite(string storeFolder, bool creatingOnly = true)
    {
        var file = Path.Combine(storeFolder, "batchops.db");
        if (!File.Exists(file))
        {
            return 0;
        }

        try
        {
            using var connection = new SqliteConnection($"Data Source={file};Mode=ReadOnly;Pooling=False");
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT count(*) FROM jobs{(creatingOnly ? $" WHERE status = {(int)JobStatus.Creating}" : string.Empty)}";
            return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (SqliteException)
        {
            return 0; // not created yet
        }
    }

    private static int CreatingInPostgres(string database, bool creatingOnly = true)
    {
        try
        {
            using var connection = new NpgsqlConnection(Postgres.StoreReference.ToConnectionString(database));
            connection.Open();
            using var command = new NpgsqlCommand($"SELECT count(*) FROM batchops.jobs{(creatingOnly ? $" WHERE status = {(int)JobStatus.Creating}" : string.Empty)}", connection);
            return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (PostgresException)
        {
            return 0; // the schema is not there yet
        }
    }

    /// <summary>
    /// Starts the command, waits until its job appears (in the creating state, or already made if that was
    /// quicker than a poll), waits <paramref name="extra"/> more, and kills it. False when the command ended first.
    /// </summary>
    private static async Task<bool> KillWhileCreatingAsync(string store, Func<int> jobs, TimeSpan extra, params string[] args)
    {
        using var process = CliHarness.Start(store, args);
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        var clock = Stopwatch.StartNew();
        while (jobs() == 0 && !process.HasExited)
        {
            Assert.True(clock.Elapsed < Bound, "the job never showed up");
            await Task.Delay(1);
        }

        await Task.Delay(extra);
        var killed = !process.HasExited;
        process.Kill();
        await process.WaitForExitAsync().WaitAsync(Bound);
        return killed;
    }

    /// <summary>What every reader sees afterwards: no job, or one job with every item.</summary>
    private static async Task AssertWholeOrNoneAsync(string store)
    {
        var list = await CliHarness.RunProcessAsync(store, Bound, "list", "--json");
        Assert.True(list.ExitCode == 0, list.ToString());
        var jobs = JsonDocument.Parse(list.Out).RootElement;
        var all = jobs.ValueKind == JsonValueKind.Array ? jobs : jobs.GetProperty("jobs");
        foreach (var job in all.EnumerateArray())
        {
            Assert.Equal(Count, job.GetProperty("counts").GetProperty("total").GetInt64());
        }

        Assert.True(all.GetArrayLength() <= 1);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task Run_KilledWhileCreating_LeavesNoJobOrTheWholeJob(string shape)
    {
        var spec = WriteSpec(shape);
        var cutShort = 0;
        // Moments right after the job appears and later ones; on a busy machine a few more, until kills have
        // landed inside the creation at least twice.
        int[] moments = [0, 0, 150, 600, 0, 0, 50, 0, 0, 0];
        for (var moment = 0; moment < moments.Length && (moment < 4 || cutShort < 2); moment++)
        {
            var store = Path.Combine(_folder.Path, $"store-{shape}-{moment}");
            if (await KillWhileCreatingAsync(store, () => CreatingInSqlite(store, creatingOnly: false), TimeSpan.FromMilliseconds(moments[moment]), "run", spec))
            {
                cutShort += CreatingInSqlite(store);
            }

            await AssertWholeOrNoneAsync(store);
            Assert.Equal(0, CreatingInSqlite(store)); // the next open removed what the killed creator left
        }

        Assert.True(cutShort > 0, "no kill landed while the job was being created; the test proved nothing");
    }

    [Fact]
    public async Task Submit_ToPostgres_KilledWhileCreating_LeavesNoJobOrTheWholeJob()
    {
        var spec = WriteSpec("items");
        var cutShort = 0;
        int[] moments = [0, 300, 0, 0, 0, 0];
        for (var moment = 0; moment < moments.Length && (moment < 2 || cutShort == 0); moment++)
        {
            var database = await postgres.CreateDatabaseAsync();
            if (await KillWhileCreatingAsync(database, () => CreatingInPostgres(database, creatingOnly: false), TimeSpan.FromMilliseconds(moments[moment]), "submit", spec))
            {
                cutShort += CreatingInPostgres(database);
            }

            await AssertWholeOrNoneAsync(database);
            Assert.Equal(0, CreatingInPostgres(database));
        }

        Assert.True(cutShort > 0, "no kill landed while the job was being created; the test proved nothing");
    }

    [Fact]
    public async Task Run_OnADiskThatFillsUpWhileCreating_SaysNothingWasCreated_AndLeavesNoJob()
    {
        // A 3 MiB file system of its own (a private mount namespace, so nothing is left mounted), holding the store.
        var spec = SpecFiles.Write(_folder.Path, new
        {
            name = "too-big",
            // Random text: item blocks are packed, and repeated text would fit the whole job into the 3 MiB.
            items = Enumerable.Range(0, 50_000).Select(n => new { n, padding = string.Concat(Enumerable.Range(0, 7).Select(_ => Guid.NewGuid().ToString("N"))) }),
            operation = new { kind = "exec", command = "true" },
        }, "too-big.json");
        var store = Path.Combine(_folder.Path, "small");
        Directory.CreateDirectory(store);
        var batchops = Path.Combine(AppContext.BaseDirectory, "batchops.dll");
        var script = string.Join("\n",
            $"mount -t tmpfs -o size=3m tmpfs '{store}' || exit 97",
            $"dotnet '{batchops}' run '{spec}' --store '{store}'; echo \"exit=$?\"",
            $"dotnet '{batchops}' list --json --store '{store}'; echo \"listed=$?\"");
        var start = new ProcessStartInfo("unshare", ["--mount", "--map-root-user", "sh", "-c", script]) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment.Remove("BATCHOPS_CONFIG");
        start.Environment["BATCHOPS_HOME"] = store;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(Bound);
        var (stdout, stderr) = (await output, await error);

        Assert.True(process.ExitCode != 97, $"could not mount a small file system (needs unshare and mount): {stderr}");
        Assert.Contains("exit=2", stdout, StringComparison.Ordinal);
        Assert.Contains("is full, so job 'too-big' was not created: nothing of it was kept. Free space there and create it again.", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("resume", stderr, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("listed=0", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("too-big\"", stdout, StringComparison.Ordinal);
    }
}
