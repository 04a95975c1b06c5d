using BatchOps.PowerShell.HostTests.Support;
using Microsoft.Data.Sqlite;

namespace BatchOps.PowerShell.HostTests;

/// <summary>
/// Write-BatchTable as users run it: piped objects (the shape Import-Csv gives: string properties) into a
/// real SQLite file; its job is an ordinary durable job (Get-BatchItem, Restart-BatchFailed, resume after
/// Ctrl+C, batchops). The PostgreSQL side is in <see cref="WriteBatchTablePostgresTests"/>.
/// The test reads the file with its own copy of SQLite, never while the module writes it: two copies of
/// SQLite in one process do not see each other's POSIX locks, so a read during a write can roll the
/// writer's transaction back as a hot journal (measured: a committed chunk lost).
/// </summary>
public sealed class WriteBatchTableTests : IDisposable
{
    private readonly PsSession _session = new();
    private readonly string _database;

    public WriteBatchTableTests()
    {
        _database = Path.Combine(_session.Store, "shop.db");
        Execute("CREATE TABLE products (sku TEXT PRIMARY KEY, name TEXT NOT NULL, price REAL, qty INTEGER)");
        _session.Runspace.SessionStateProxy.SetVariable("Database", _database);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _session.Dispose();
    }

    private const string Rows = """
        $rows = 1..250 | ForEach-Object { [pscustomobject]@{ sku = "SKU-$_"; name = "Item $_"; price = "$_.50"; qty = "$_" } }
        """;

    [Fact]
    public void PipedObjects_AreInsertedInChunks_AndTheJobIsOutput()
    {
        // Enough rows that results arrive while rows are still being piped: none of them is output.
        var run = _session.Run("""
            $rows = 1..5000 | ForEach-Object { [pscustomobject]@{ sku = "SKU-$_"; name = "Item $_"; price = "$_.50"; qty = "$_" } }
            $job = $rows | Write-BatchTable -Connection $Database -Table products -ChunkSize 100 -Name load
            @($job).Count
            $job -is [BatchOps.BatchJob]
            $job.Status.ToString()
            $job.Succeeded
            $job.OperationKind
            $job.Settings.ChunkSize
            """).ThrowIfFailed();

        Assert.Equal(["1", "True", "Completed", "5000", "sql", "100"], run.Output.Select(o => o.ToString()));
        Assert.Equal(5000L, Scalar("SELECT count(*) FROM products"));
        Assert.Equal(7.5, Scalar("SELECT price FROM products WHERE sku = 'SKU-7'"));
        Assert.Equal(7L, Scalar("SELECT qty FROM products WHERE sku = 'SKU-7'"));
    }

    [Fact]
    public void Upsert_PassThru_GivesEachRowsFateWithThePipedObject_AndGetBatchItemReadsRowsBack()
    {
        Execute("INSERT INTO products VALUES ('SKU-1', 'old', 1, 1), ('SKU-2', 'old', 2, 2)");
        var run = _session.Run("""
            $rows = @(
                [pscustomobject]@{ sku = 'SKU-1'; name = 'renamed'; price = 10 }
                @{ sku = 'SKU-3'; name = 'new'; price = 3.25 }
            )
            $results = $rows | Write-BatchTable $Database products -Mode Upsert -Key sku -PassThru -KeyProperty sku
            ($results | ForEach-Object { "$($_.Key)=$($_.Output)" }) -join ','
            [object]::ReferenceEquals($results[0].Input, $rows[0])
            $item = Get-BatchItem -Id $results[0].JobId -Index 1
            "$($item.Input.sku) $($item.Input.price) $($item.Output)"
            """).ThrowIfFailed();

        Assert.Equal(["SKU-1=updated,SKU-3=inserted", "True", "SKU-3 3.25 inserted"], run.Output.Select(o => o.ToString()));
        Assert.Equal("renamed", Scalar("SELECT name FROM products WHERE sku = 'SKU-1'"));
        Assert.Equal(1L, Scalar("SELECT qty FROM products WHERE sku = 'SKU-1'")); // not given, so not changed
        Assert.Equal(2L, Scalar("SELECT qty FROM products WHERE sku = 'SKU-2'"));
    }

    [Fact]
    public void BadRows_FailAlone_AsErrors_AndRestartBatchFailedWritesThemOnceFixed()
    {
        Execute("INSERT INTO products VALUES ('SKU-40', 'already there', 1, 1)");
        var run = _session.Run(Rows + """

            $rows[9].price = 'abc'
            $job = $rows | Write-BatchTable -Connection $Database -Table products -ChunkSize 50 -ErrorVariable failed -ErrorAction SilentlyContinue
            "$($job.Status) $($job.Succeeded) $($job.Failed)"
            ($failed | ForEach-Object { $_.FullyQualifiedErrorId }) -join ','
            ($failed | ForEach-Object { $_.TargetObject.Index } | Sort-Object) -join ','
            ($failed | ForEach-Object { $_.Exception.Message } | Sort-Object) -join ' | '
            $job.Id
            """);

        Assert.Null(run.Terminating);
        var lines = run.Output.Select(o => o.ToString()).ToArray();
        Assert.Equal("CompletedWithErrors 248 2", lines[0]);
        Assert.Equal("BatchOps.ItemFailed,BatchOps.PowerShell.Commands.WriteBatchTableCommand,BatchOps.ItemFailed,BatchOps.PowerShell.Commands.WriteBatchTableCommand", lines[1]);
        Assert.Equal("9,39", lines[2]);
        Assert.Contains("row 9: column price: 'abc' is not a number", lines[3], StringComparison.Ordinal);
        Assert.Contains("UNIQUE", lines[3], StringComparison.Ordinal);
        Assert.Equal(249L, Scalar("SELECT count(*) FROM products"));

        // Fix the data the two rows ran into, then retry only them: each is written once.
        Execute("DELETE FROM products WHERE sku = 'SKU-40'");
        _session.Runspace.SessionStateProxy.SetVariable("JobId", lines[4]);
        var retry = _session.Run("""
            $retried = Restart-BatchFailed -Id $JobId -ErrorAction SilentlyContinue -ErrorVariable still
            ($retried | ForEach-Object { "$($_.Index)=$($_.Status)" } | Sort-Object) -join ','
            (Get-BatchJob -Id $JobId).Status.ToString()
            """);
        Assert.Equal(["39=Succeeded,9=Failed", "CompletedWithErrors"], retry.Output.Select(o => o.ToString()));
        Assert.Equal(249L, Scalar("SELECT count(*) FROM products")); // row 9 still has 'abc'
        Assert.Equal("Item 40", Scalar("SELECT name FROM products WHERE sku = 'SKU-40'"));
    }

    [Fact]
    public void UnmappedProperty_EndsTheCommandBeforeAnythingIsCreated_NamingTheFieldAndTheFix()
    {
        var run = _session.Run("""
            [pscustomobject]@{ sku = 'A'; name = 'a'; colour = 'red' } | Write-BatchTable -Connection $Database -Table products
            """);

        var error = Assert.Single(run.Errors);
        Assert.Equal("BatchOps.InvalidSqlTarget,BatchOps.PowerShell.Commands.WriteBatchTableCommand", error.FullyQualifiedErrorId);
        var message = error.Exception.Message;
        Assert.Contains("field 'colour' has no column", message, StringComparison.Ordinal);
        Assert.Contains("-ColumnMap", message, StringComparison.Ordinal);
        Assert.Contains("-IgnoreUnmapped", message, StringComparison.Ordinal);
        Assert.Empty(_session.Run("Get-BatchJob").ThrowIfFailed().Output);
        Assert.Equal(0L, Scalar("SELECT count(*) FROM products"));

        _session.Run("""
            [pscustomobject]@{ sku = 'A'; title = 'a'; colour = 'red' } | Write-BatchTable -Connection $Database -Table products -ColumnMap @{ title = 'name' } -IgnoreUnmapped
            """).ThrowIfFailed();
        Assert.Equal("a", Scalar("SELECT name FROM products WHERE sku = 'A'"));
    }

    [Fact]
    public void PipedStrings_AreRefusedWithWhatARowNeeds()
    {
        var run = _session.Run("'SKU-1', 'SKU-2' | Write-BatchTable -Connection $Database -Table products");

        var error = Assert.Single(run.Errors);
        Assert.Equal("BatchOps.InvalidSqlTarget,BatchOps.PowerShell.Commands.WriteBatchTableCommand", error.FullyQualifiedErrorId);
        Assert.Contains("row 0: is a String ('SKU-1'); a row needs named values", error.Exception.Message, StringComparison.Ordinal);
        Assert.Empty(_session.Run("Get-BatchJob").ThrowIfFailed().Output);

        // After a good first row, a string is a bad row like any other: it fails alone.
        var mixed = _session.Run("""
            $job = @([pscustomobject]@{ sku = 'A'; name = 'a' }, 'stray', [pscustomobject]@{ sku = 'B'; name = 'b' }) |
                Write-BatchTable -Connection $Database -Table products -ErrorVariable bad -ErrorAction SilentlyContinue
            "$($job.Succeeded) $($job.Failed)"
            $bad[0].Exception.Message
            """);
        Assert.Equal("2 1", mixed.Output[0].ToString());
        Assert.Contains("row 1: is a string", mixed.Output[1].ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-Table products -Mode Upsert", "-Key is required for upsert")]
    [InlineData("-Table products -Mode Upsert -Key name", "no primary key or unique index on exactly those columns")]
    [InlineData("-Table nosuch", "nosuch")]
    [InlineData("-Table products -BackupPath b.jsonl", "-BackupPath saves rows before they change")]
    public void BadTargets_AreRejectedBeforeAnythingIsCreated(string parameters, string expected)
    {
        var run = _session.Run($"[pscustomobject]@{{ sku = 'A'; name = 'a' }} | Write-BatchTable -Connection $Database {parameters}");

        var error = Assert.Single(run.Errors);
        Assert.Equal("BatchOps.InvalidSqlTarget,BatchOps.PowerShell.Commands.WriteBatchTableCommand", error.FullyQualifiedErrorId);
        Assert.Contains(expected, error.Exception.Message, StringComparison.Ordinal);
        Assert.Empty(_session.Run("Get-BatchJob").ThrowIfFailed().Output);
    }

    [Fact]
    public void WhatIf_ChangesNothing_CreatesNoJob_AndWarnsOfRowsThatWouldFail()
    {
        Execute("INSERT INTO products VALUES ('SKU-1', 'old', 1, 1)");
        var run = _session.Run(Rows + """

            $rows[4].price = 'abc'
            $rows | Write-BatchTable -Connection $Database -Table products -Mode Upsert -Key sku -WhatIf
            """);

        Assert.Null(run.Terminating);
        Assert.Empty(run.Output);
        Assert.Equal("would fail: row 4: column price: 'abc' is not a number", Assert.Single(run.Warnings));
        Assert.Equal(1L, Scalar("SELECT count(*) FROM products"));
        Assert.Equal("old", Scalar("SELECT name FROM products WHERE sku = 'SKU-1'"));
        Assert.Empty(_session.Run("Get-BatchJob").ThrowIfFailed().Output);
    }

    [Fact]
    public void WhatIf_WritesOneWhatIfLinePerChunkWithItsCounts_AndATotal()
    {
        Execute("INSERT INTO products VALUES ('SKU-1', 'old', 1, 1), ('SKU-2', 'old', 2, 2)");
        var host = new RecordingHost();
        using var session = new PsSession(_session.Store, host: host);
        session.Runspace.SessionStateProxy.SetVariable("Database", _database);

        var run = session.Run("""
            $rows = 1..250 | ForEach-Object { [pscustomobject]@{ sku = "SKU-$_"; name = "Item $_"; price = "$_.50"; qty = "$_" } }
            $rows[150].price = 'abc'
            $rows | Write-BatchTable -Connection $Database -Table products -Mode Upsert -Key sku -ChunkSize 100 -ThrottleLimit 1 -WhatIf -WarningAction SilentlyContinue
            """);

        Assert.Null(run.Terminating);
        var whatIf = host.Lines.Where(l => l.StartsWith("What if:", StringComparison.Ordinal)).ToArray();
        Assert.True(whatIf.Length == 5, string.Join("\n", host.Lines));
        Assert.Equal(
            [
                "upsert into sqlite table products by key (sku)",
                "rows 0-99 of upsert into sqlite table products by key (sku): 98 would insert, 2 would update",
                "rows 100-199 of upsert into sqlite table products by key (sku): 99 would insert, 1 would fail",
                "rows 200-249 of upsert into sqlite table products by key (sku): 50 would insert",
                "250 row(s), upsert into sqlite table products by key (sku): Would do: 247 would insert, 2 would update, 1 would fail",
            ],
            whatIf.Select(WhatIfLine));
        Assert.Equal(2L, Scalar("SELECT count(*) FROM products"));
    }

    [Fact]
    public void WhatIf_StoppedByMaxAffected_StillReadsTheWholeInputAndReturns()
    {
        // More rows than the dry run's queue holds, and a run that stops after its first chunk.
        var run = _session.Run("""
            1..20000 | ForEach-Object { [pscustomobject]@{ sku = "SKU-$_"; name = "Item $_" } } |
                Write-BatchTable -Connection $Database -Table products -ChunkSize 100 -ThrottleLimit 1 -MaxAffected 150 -WhatIf
            'returned'
            """, limit: TimeSpan.FromSeconds(60));

        Assert.Null(run.Terminating);
        Assert.Equal("returned", run.Output.Single().ToString());
        Assert.Equal(0L, Scalar("SELECT count(*) FROM products"));
        Assert.Empty(_session.Run("Get-BatchJob").ThrowIfFailed().Output);
    }

    [Fact]
    public void Delete_WithBackupAndMaxAffected_StopsBeforeTheLimit_AndTheBackupHoldsTheDeletedRows()
    {
        _session.Run(Rows + "\n$rows | Write-BatchTable $Database products").ThrowIfFailed();
        var run = _session.Run("""
            $keys = 1..250 | ForEach-Object { @{ sku = "SKU-$_" } }
            $job = $keys | Write-BatchTable $Database products -Mode Delete -Key sku -ChunkSize 100 -ThrottleLimit 1 -MaxAffected 150 -BackupPath "$Store/deleted.jsonl" -ErrorAction SilentlyContinue -ErrorVariable stopped
            "$($job.Status) $($job.Succeeded) $($job.Skipped)"
            $stopped[-1].FullyQualifiedErrorId
            """, limit: TimeSpan.FromSeconds(60));

        var lines = run.Output.Select(o => o.ToString()).ToArray();
        Assert.Equal("Failed 100 150", lines[0]);
        Assert.StartsWith("BatchOps.JobFailed", lines[1], StringComparison.Ordinal);
        Assert.Equal(150L, Scalar("SELECT count(*) FROM products"));
        var backup = File.ReadAllLines(Path.Combine(_session.Store, "deleted.jsonl"));
        Assert.Equal(100, backup.Length);
        Assert.Contains(backup, line => line.Contains("\"sku\":\"SKU-1\"", StringComparison.Ordinal) && line.Contains("\"name\":\"Item 1\"", StringComparison.Ordinal));
    }

    [Fact]
    public void CtrlC_MidLoad_LeavesAResumableJob_AndResumingWritesEveryRowOnce()
    {
        Execute("CREATE TABLE events (n INTEGER NOT NULL, payload TEXT)");
        using var running = _session.Start("""
            1..200000 | ForEach-Object { [pscustomobject]@{ n = $_; payload = "event $_" } } |
                Write-BatchTable -Connection $Database -Table events -ChunkSize 500 -Name events-load
            """);
        running.WaitUntil(r => Succeeded(r) > 5_000, TimeSpan.FromSeconds(60), "rows to be written");
        running.Stop(TimeSpan.FromSeconds(30));

        var written = (long)Scalar("SELECT count(*) FROM events")!;
        Assert.True(written < 200_000, $"the load ran to the end ({written} rows) before it was stopped");
        // Cancelled; or Completed when the stop landed after the last row piped so far had been written
        // (the job holds what was piped, and all of it is in the table).
        var status = _session.Run("$j = Get-BatchJob events-load; \"$($j.Status) $($j.Succeeded)/$($j.Total) $($j.Message)\"").ThrowIfFailed().Output.Single().ToString()!;
        Assert.True(status.StartsWith("Cancelled ", StringComparison.Ordinal) || status.StartsWith("Completed ", StringComparison.Ordinal), $"after Ctrl+C the job is {status}");

        // The job holds the rows piped before Ctrl+C; resuming writes the ones not yet written, each once.
        var resumed = _session.Run("""
            $null = Invoke-BatchJob -Id events-load
            $job = Get-BatchJob events-load
            "$($job.Status) $($job.Succeeded) $($job.Total)"
            """, limit: TimeSpan.FromSeconds(120)).ThrowIfFailed();
        var parts = resumed.Output.Single().ToString().Split(' ');
        var total = long.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(["Completed", parts[2]], parts[..2]);
        Assert.True(total >= written, $"the job holds {total} rows, fewer than the {written} already written");
        Assert.Equal(total, Scalar("SELECT count(*) FROM events"));
        Assert.Equal(total, Scalar("SELECT count(DISTINCT n) FROM events"));
        Assert.Equal(total, Scalar("SELECT max(n) FROM events"));
    }

    [Fact]
    public void TabExpansion_CompletesModesAndProviders()
    {
        var run = _session.Run("""
            (TabExpansion2 -inputScript 'Write-BatchTable -Mode U' -cursorColumn 24).CompletionMatches.CompletionText -join '|'
            (TabExpansion2 -inputScript 'Write-BatchTable -Provider ' -cursorColumn 27).CompletionMatches.CompletionText -join '|'
            """).ThrowIfFailed();

        Assert.Equal(["Update|Upsert", "PostgreSql|Sqlite"], run.Output.Select(o => o.ToString()));
    }

    /// <summary>"What if: Performing the operation "A" on target "T"." as "T: A" (the first line's operation names the job, which varies).</summary>
    private static string WhatIfLine(string line)
    {
        var match = System.Text.RegularExpressions.Regex.Match(line, """^What if: Performing the operation "(.*)" on target "(.*)"\.$""");
        Assert.True(match.Success, line);
        return match.Groups[1].Value.StartsWith("Write the piped rows", StringComparison.Ordinal) ? match.Groups[2].Value : $"{match.Groups[2].Value}: {match.Groups[1].Value}";
    }

    private object? Scalar(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={_database};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    /// <summary>Rows written so far, from the run's progress bar ("1500/? done: 1500 ok, …").</summary>
    private static long Succeeded(RunningScript running)
    {
        var last = running.Streams.Progress.LastOrDefault()?.StatusDescription;
        var match = last is null ? null : System.Text.RegularExpressions.Regex.Match(last, @"(\d+) ok");
        return match is { Success: true } ? long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
    }

    private void Execute(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={_database};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
