using BatchOps.PowerShell.HostTests.Support;
using BatchOps.Testing;
using Npgsql;

namespace BatchOps.PowerShell.HostTests;

/// <summary>
/// Write-BatchTable against a real PostgreSQL server (a throwaway cluster on a Unix socket): binary COPY,
/// upsert through a temporary table, secrets kept out of the store, and the job shared with batchops.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class WriteBatchTablePostgresTests(PostgresServer server) : IDisposable
{
    private readonly PsSession _session = new();

    public void Dispose() => _session.Dispose();

    [Fact]
    public async Task Upsert_ThroughAnEnvironmentVariable_WritesEveryRow_AndNeverStoresTheConnection()
    {
        var db = await DatabaseAsync("CREATE TABLE products (sku text PRIMARY KEY, name text NOT NULL, price numeric(10,2), qty int)",
            "INSERT INTO products VALUES ('SKU-1', 'old', 1, 1)");
        var variable = $"BATCHOPS_HOST_DB_{Guid.NewGuid():N}";
        Environment.SetEnvironmentVariable(variable, db);
        _session.Runspace.SessionStateProxy.SetVariable("Connection", $"env:{variable}");

        var run = _session.Run("""
            $rows = 1..1000 | ForEach-Object { [pscustomobject]@{ sku = "SKU-$_"; name = "Item $_"; price = "$_.25"; qty = "$_" } }
            $rows[499].price = 'abc'
            $job = $rows | Write-BatchTable -Connection $Connection -Table products -Mode Upsert -Key sku -ChunkSize 200 -ThrottleLimit 4 -ErrorVariable bad -ErrorAction SilentlyContinue
            "$($job.Status) $($job.Succeeded) $($job.Failed)"
            $bad.Exception.Message
            ((Get-BatchItem -Id $job.Id -Index 0, 1).Output) -join ','
            $job.Id
            """, limit: TimeSpan.FromSeconds(120));

        Assert.Null(run.Terminating);
        var lines = run.Output.Select(o => o.ToString()).ToArray();
        Assert.Equal("CompletedWithErrors 999 1", lines[0]);
        Assert.Contains("row 499: column price: 'abc' is not a number", lines[1], StringComparison.Ordinal);
        Assert.Equal("updated,inserted", lines[2]);
        Assert.Equal(999L, await ScalarAsync(db, "SELECT count(*) FROM products"));
        Assert.Equal(7.25m, await ScalarAsync(db, "SELECT price FROM products WHERE sku = 'SKU-7'"));
        Assert.Equal("Item 1", await ScalarAsync(db, "SELECT name FROM products WHERE sku = 'SKU-1'"));

        var show = _session.Batchops("show", lines[3], "--json");
        Assert.Contains($"env:{variable}", show, StringComparison.Ordinal);
        Assert.DoesNotContain(new NpgsqlConnectionStringBuilder(db).Host!, show, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AJobWrittenFromPowerShell_IsRetriedByBatchops_AfterTheDataIsFixed()
    {
        var db = await DatabaseAsync("CREATE TABLE hosts (name text PRIMARY KEY, ip inet NOT NULL)", "INSERT INTO hosts VALUES ('web07', '10.0.0.99')");
        _session.Runspace.SessionStateProxy.SetVariable("Connection", db);

        var run = _session.Run("""
            $job = 1..20 | ForEach-Object { @{ name = "web{0:d2}" -f $_; ip = "10.0.0.$_" } } |
                Write-BatchTable $Connection hosts -Name hosts-load -ChunkSize 8 -ErrorAction SilentlyContinue
            "$($job.Status) $($job.Failed)"
            """).ThrowIfFailed();
        Assert.Equal("CompletedWithErrors 1", run.Output.Single().ToString());

        await ExecuteAsync(db, "DELETE FROM hosts WHERE name = 'web07'");
        var retry = _session.Batchops("retry", "hosts-load");

        Assert.Contains("Completed", retry, StringComparison.Ordinal);
        Assert.Equal(20L, await ScalarAsync(db, "SELECT count(*) FROM hosts"));
        Assert.Equal("10.0.0.7", (await ScalarAsync(db, "SELECT host(ip) FROM hosts WHERE name = 'web07'"))?.ToString());
        var status = _session.Run("(Get-BatchJob hosts-load).Status.ToString()").ThrowIfFailed();
        Assert.Equal("Completed", status.Output.Single().ToString());
    }

    [Fact]
    public async Task AConnectionStringWithAPassword_IsRefused_BeforeAnythingIsCreated()
    {
        var db = await DatabaseAsync("CREATE TABLE t (id int)");
        _session.Runspace.SessionStateProxy.SetVariable("Connection", db + ";Password=hunter2");

        var run = _session.Run("@{ id = 1 } | Write-BatchTable -Connection $Connection -Table t");

        var error = Assert.Single(run.Errors);
        Assert.Equal("BatchOps.InvalidSqlTarget,BatchOps.PowerShell.Commands.WriteBatchTableCommand", error.FullyQualifiedErrorId);
        Assert.Contains("env:NAME", error.Exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", error.Exception.Message, StringComparison.Ordinal);
        Assert.Empty(_session.Run("Get-BatchJob").ThrowIfFailed().Output);
        Assert.Equal(0L, await ScalarAsync(db, "SELECT count(*) FROM t"));
    }

    private async Task<string> DatabaseAsync(params string[] statements)
    {
        var db = await server.CreateDatabaseAsync();
        foreach (var statement in statements)
        {
            await ExecuteAsync(db, statement);
        }

        return db;
    }

    private static async Task ExecuteAsync(string db, string sql)
    {
        await using var connection = new NpgsqlConnection(db);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<object?> ScalarAsync(string db, string sql)
    {
        await using var connection = new NpgsqlConnection(db);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }
}
