using BatchOps.Engine.Store;
using BatchOps.Engine.Jobs;
using BatchOps.Postgres;
using BatchOps.Testing;
using Npgsql;

namespace BatchOps.Engine.Tests.Store;

[Collection(PostgresCollection.Name)]
public class PostgresJobStoreTests(PostgresServer server) : JobStoreContractTests, IAsyncLifetime
{
    private string _database = string.Empty;

    public async Task InitializeAsync() => _database = await server.CreateDatabaseAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    protected override IJobStore CreateSut() => PostgresJobStore.Open(_database);

    protected override IJobStore OpenSecond() => PostgresJobStore.Open(_database);

    protected override async Task RewindBeforeSecretsScrubAsync() =>
        await ScalarAsync(DropSchema10 + "DROP TABLE batchops.item_retries; ALTER TABLE batchops.jobs DROP COLUMN input_open; UPDATE batchops.meta SET value = '6' WHERE key = 'schema_version'; SELECT 1");

    /// <summary>What schema 12 changed (blocks compressed from 128 bytes on), for tests that take a store back to an older schema.</summary>
    private const string DropSchema12 = "ALTER TABLE batchops.item_blocks RESET (toast_tuple_target); ";

    /// <summary>What schema 11 added (notifications), for tests that take a store back to an older schema.</summary>
    private const string DropSchema11 = DropSchema12 + "DROP TABLE batchops.job_notices; ALTER TABLE batchops.jobs DROP COLUMN notify; ";

    /// <summary>What schema 10 changed (counts per stage), for tests that take a store back to an older schema (its functions stay: the migration replaces them).</summary>
    private const string DropSchema10 = DropSchema11 +
        "DROP TABLE batchops.job_stages; DROP FUNCTION batchops.stage_of(text, bigint); " +
        "CREATE TEMP TABLE counted AS SELECT job_id, status, sum(n)::bigint AS n FROM batchops.job_counts GROUP BY 1, 2; " +
        "ALTER TABLE batchops.job_counts DROP COLUMN stage; DELETE FROM batchops.job_counts; INSERT INTO batchops.job_counts SELECT * FROM counted; DROP TABLE counted; " +
        "ALTER TABLE batchops.job_counts ADD PRIMARY KEY (job_id, status); ";

    [Fact]
    public async Task Open_StoreOfSchema9_CountsItsStagedJobsPerStage_FromWhatItHolds()
    {
        JobRecord job;
        using (var store = CreateSut())
        {
            job = await RecordStagedWorkAsync(store);
        }

        await ScalarAsync(DropSchema10 + "UPDATE batchops.meta SET value = '9' WHERE key = 'schema_version'; SELECT 1");

        using var reopened = CreateSut();
        var tallies = await reopened.GetStageTalliesAsync(job);
        Assert.Equal(await StageTally.ScanAsync(reopened, job), tallies);
        Assert.Equal([198L, 8L, 0L], tallies.Select(t => t.Counts.Succeeded));
        Assert.Equal($"{PostgresJobStore.SchemaVersion}", await ScalarAsync("SELECT value FROM batchops.meta WHERE key = 'schema_version'"));
    }

    [Fact]
    public async Task ItemBlocks_OfCompactPayloads_TakeUnderSixtyBytesAnItem_AlsoInAStoreMigratedFromSchema11()
    {
        const string Output = "<Obj RefId=\"0\"><TN RefId=\"0\"><T>System.Management.Automation.PSCustomObject</T><T>System.Object</T></TN><MS><S N=\"Name\">srv{0}</S><B N=\"Ok\">true</B></MS></Obj>";
        using (var store = CreateSut())
        {
            // Rewound to schema 11 (blocks kept inline up to 2 KB), then opened again: the migration applies.
            Assert.NotNull(await ScalarAsync(DropSchema12 + "UPDATE batchops.meta SET value = '11' WHERE key = 'schema_version'; SELECT 1"));
        }

        using var reopened = CreateSut();
        var runner = new JobRunner(reopened);
        var job = await runner.CreateAsync(
            new JobDefinition { Name = "sized", OperationKind = "test", Operation = "{}", Settings = new JobSettings { ChunkSize = 100, ThrottleLimit = 2 } },
            Enumerable.Range(0, 10_000).Select(n => (string?)$"<I32>{n}</I32>"), TextPayloadCodec.Instance, "clixml");
        var run = await runner.RunAsync(job.Id, new JobRunRequest<string?, string?>
        {
            Operation = BatchOps.Engine.Execution.BatchOperation<string?, string?>.PerItem((item, _) => ValueTask.FromResult<string?>(string.Format(System.Globalization.CultureInfo.InvariantCulture, Output, item.Index))),
            InputCodec = TextPayloadCodec.Instance,
            OutputCodec = TextPayloadCodec.Instance,
        });

        Assert.Equal(10_000L, run.Job.Counts.Succeeded);
        Assert.Equal("{toast_tuple_target=128}", await ScalarAsync("SELECT reloptions::text FROM pg_class WHERE oid = 'batchops.item_blocks'::regclass"));
        var bytes = long.Parse((await ScalarAsync("SELECT pg_total_relation_size('batchops.item_blocks')"))!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(bytes < 60 * 10_000, $"{bytes / 10_000.0:F1} bytes an item");
        Assert.Equal(string.Format(System.Globalization.CultureInfo.InvariantCulture, Output, 4_321), (await reopened.GetItemsAsync(job.Id, new ItemQuery { Indexes = [4_321] }).ToListAsync()).Single().Output);
    }

    /// <summary>What a dump of the store's tables holds: every job row's text.</summary>
    protected override async Task<byte[]> StoredBytesAsync() =>
        System.Text.Encoding.UTF8.GetBytes(await ScalarAsync("SELECT coalesce(string_agg(j::text, ''), '') FROM batchops.jobs j") ?? string.Empty);

    [Fact]
    public async Task Open_NewDatabase_CreatesTheSchemaOnce_EvenWhenManyOpenAtOnce()
    {
        var stores = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() => PostgresJobStore.Open(_database))));
        foreach (var store in stores)
        {
            Assert.Empty(await store.FindJobsAsync(new JobQuery()));
            store.Dispose();
        }

        Assert.Equal($"{PostgresJobStore.SchemaVersion}", await ScalarAsync("SELECT value FROM batchops.meta WHERE key = 'schema_version'"));
    }

    [Fact]
    public async Task Open_WhileAnotherProcessCreatesTheSchema_SeesTheNewStore()
    {
        // Openers that looked before the schema existed, then waited for the migration lock while another
        // created it, look again under the lock and find the store instead of creating it twice.
        await using var holder = new NpgsqlConnection(_database);
        await holder.OpenAsync();
        await using var hold = await holder.BeginTransactionAsync();
        await using (var take = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({PostgresJobStore.MigrationLock})", holder, hold))
        {
            await take.ExecuteNonQueryAsync();
        }

        var opening = Enumerable.Range(0, 3).Select(_ => Task.Run(() => PostgresJobStore.Open(_database))).ToArray();
        const string Waiting = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await ScalarAsync(Waiting) != "3" && DateTime.UtcNow < deadline && !opening.Any(o => o.IsFaulted))
        {
            await Task.Delay(20);
        }

        Assert.Equal("3", await ScalarAsync(Waiting));
        await hold.RollbackAsync();
        var stores = await Task.WhenAll(opening).WaitAsync(TimeSpan.FromSeconds(60));
        foreach (var store in stores)
        {
            Assert.Empty(await store.FindJobsAsync(new JobQuery()));
            store.Dispose();
        }

        Assert.Equal($"{PostgresJobStore.SchemaVersion}", await ScalarAsync("SELECT value FROM batchops.meta WHERE key = 'schema_version'"));
    }

    [Fact]
    public async Task Open_ForeignBatchopsSchema_IsLeftUntouchedWithAClearError()
    {
        await ScalarAsync("CREATE SCHEMA batchops; CREATE TABLE batchops.invoices (id int); INSERT INTO batchops.invoices VALUES (1); SELECT 1");

        var error = Assert.Throws<StoreException>(() => PostgresJobStore.Open(_database));

        Assert.Contains("not a BatchOps job store", error.Message, StringComparison.Ordinal);
        Assert.Equal("1", await ScalarAsync("SELECT count(*) FROM batchops.invoices"));
    }

    [Fact]
    public async Task Open_StoreOfANewerSchema_ThrowsUpgradeError()
    {
        using (PostgresJobStore.Open(_database))
        {
        }

        await ScalarAsync("UPDATE batchops.meta SET value = '99' WHERE key = 'schema_version'; SELECT 1");

        var error = Assert.Throws<StoreException>(() => PostgresJobStore.Open(_database));
        Assert.Contains($"newer BatchOps (store schema 99; this version reads up to {PostgresJobStore.SchemaVersion})", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Location_NamesTheDatabaseWithoutSecrets()
    {
        using var store = PostgresJobStore.Open(_database);
        var builder = new NpgsqlConnectionStringBuilder(_database);

        Assert.Equal($"postgresql://{builder.Username}@{builder.Host}/{builder.Database}", store.Location);
    }

    [Fact]
    public async Task Counts_KeptByTriggers_MatchTheItemsThroughFailuresRetriesAndRemoval()
    {
        using var store = CreateSut();
        var job = NewJob();
        await store.CreateJobAsync(job);
        await store.AddItemsAsync(job.Id, Enumerable.Range(0, 1000).Select(i => new StoredItem { Index = i, Input = $"{i}" }).ToList());
        var error = new Engine.Jobs.ItemError("E", "bad", null, false);
        await store.CheckpointAsync(job.Id, Enumerable.Range(0, 200).Select(i => new ItemOutcome(
            i, i % 50 == 7 ? Engine.Jobs.ItemStatus.Failed : Engine.Jobs.ItemStatus.Succeeded, 1, null, i % 50 == 7 ? error : null, null, DateTimeOffset.UnixEpoch, TimeSpan.Zero)).ToList());
        Assert.Equal([7L, 57L, 107L, 157L], await store.ResetFailedAsync(job.Id, null));

        var counts = (await store.GetJobAsync(job.Id))!.Counts;
        Assert.Equal((1000L, 196L, 804L, 0L), (counts.Total, counts.Succeeded, counts.Pending, counts.Failed));
        Assert.Equal("196", await ScalarAsync($"SELECT count(*) FROM batchops.items WHERE job_id = '{job.Id}' AND status = 2"));

        Assert.True(await store.RemoveJobAsync(job.Id));
        Assert.Equal("0", await ScalarAsync($"SELECT count(*) FROM batchops.job_counts WHERE job_id = '{job.Id}'"));
    }

    [Fact]
    public async Task Open_StoreOfSchemaOne_MigratesForward_KeepingItsJobs()
    {
        // A store as the first release wrote it, with a job half done.
        await ScalarAsync(
            "CREATE SCHEMA batchops; CREATE TABLE batchops.meta (key text PRIMARY KEY, value text NOT NULL); " +
            "INSERT INTO batchops.meta VALUES ('application', 'batchops'), ('schema_version', '1'); " + PostgresSchema.Migrations[0] +
            "; INSERT INTO batchops.jobs (id, name, status, operation_kind, operation, input_format, output_format, created_at) " +
            "VALUES ('old', 'old', 3, 'exec', '{}', 'json', 'text', now()); " +
            "INSERT INTO batchops.items (job_id, idx, input, status) SELECT 'old', g, g::text, CASE WHEN g < 10 THEN 2 ELSE 0 END FROM generate_series(0, 99) g; " +
            "INSERT INTO batchops.job_chunks (job_id, first_idx, last_idx) VALUES ('old', 10, 99); SELECT 1");

        using var store = CreateSut();

        Assert.Equal($"{PostgresJobStore.SchemaVersion}", await ScalarAsync("SELECT value FROM batchops.meta WHERE key = 'schema_version'"));
        Assert.Equal("exec, no stage", await ScalarAsync("SELECT kind || coalesce(', ' || stage, ', no stage') FROM batchops.job_chunks WHERE job_id = 'old'"));
        var old = (await store.GetJobAsync("old"))!;
        Assert.Equal((100L, 10L), (old.Counts.Total, old.Counts.Succeeded));
        await store.CheckpointAsync("old", Enumerable.Range(10, 90).Select(i => new ItemOutcome(i, Engine.Jobs.ItemStatus.Succeeded, 1, null, null, null, DateTimeOffset.UnixEpoch, TimeSpan.Zero)).ToList());
        Assert.Equal("10-99", await ScalarAsync("SELECT string_agg(first_idx || '-' || last_idx, ',') FROM batchops.item_blocks WHERE job_id = 'old'"));
        Assert.Equal(100, (await store.GetItemsAsync("old", new ItemQuery { Statuses = [Engine.Jobs.ItemStatus.Succeeded] }).ToListAsync()).Count);
    }

    [Fact]
    public async Task Checkpoint_OfConsecutiveSuccesses_KeepsThemAsOneBlock_AndFailuresAsRows()
    {
        using var store = CreateSut();
        var job = NewJob();
        await store.CreateJobAsync(job);
        await store.AddItemsAsync(job.Id, Enumerable.Range(0, 300).Select(i => new StoredItem { Index = i, Input = $"{i}" }).ToList());
        ItemOutcome Done(int i, bool failed = false) => new(
            i, failed ? Engine.Jobs.ItemStatus.Failed : Engine.Jobs.ItemStatus.Succeeded, 1, null, failed ? new Engine.Jobs.ItemError("E", "bad", null, false) : null, null, DateTimeOffset.UnixEpoch, TimeSpan.Zero);
        await store.CheckpointAsync(job.Id, Enumerable.Range(0, 100).Select(i => Done(i)).ToList());
        await store.CheckpointAsync(job.Id, Enumerable.Range(100, 100).Select(i => Done(i, failed: i == 150)).ToList());
        await store.CheckpointAsync(job.Id, Enumerable.Range(200, 7).Select(i => Done(i)).ToList());

        Assert.Equal("0-99", await ScalarAsync($"SELECT string_agg(first_idx || '-' || last_idx, ',') FROM batchops.item_blocks WHERE job_id = '{job.Id}'"));
        Assert.Equal("200", await ScalarAsync($"SELECT count(*) FROM batchops.items WHERE job_id = '{job.Id}'"));
        Assert.Equal("106", await ScalarAsync($"SELECT count(*) FROM batchops.items WHERE job_id = '{job.Id}' AND status = 2"));
        Assert.Equal((300L, 206L, 1L), ((await store.GetJobAsync(job.Id))!.Counts.Total, (await store.GetJobAsync(job.Id))!.Counts.Succeeded, (await store.GetJobAsync(job.Id))!.Counts.Failed));

        // Successes recorded again over items a block holds (or over items that do not exist) cannot move:
        // the batch fails on the server and runs again row by row, counting nothing twice.
        await store.CheckpointAsync(job.Id, Enumerable.Range(0, 100).Select(i => Done(i) with { Attempts = 2 }).ToList());
        await store.CheckpointAsync(job.Id, Enumerable.Range(300, 50).Select(i => Done(i)).ToList());
        Assert.Equal("", await ScalarAsync($"SELECT coalesce(string_agg(first_idx || '-' || last_idx, ','), '') FROM batchops.item_blocks WHERE job_id = '{job.Id}'"));
        Assert.Equal((300L, 206L, 1L), ((await store.GetJobAsync(job.Id))!.Counts.Total, (await store.GetJobAsync(job.Id))!.Counts.Succeeded, (await store.GetJobAsync(job.Id))!.Counts.Failed));
        Assert.All(await store.GetItemsAsync(job.Id, new ItemQuery { LastIndex = 99 }).ToListAsync(), i => Assert.Equal((Engine.Jobs.ItemStatus.Succeeded, 2), (i.Status, i.Attempts)));

        // Undo of one item writes its block back out as rows first.
        await store.RecordCompensationsAsync(job.Id, [new ItemOutcome(42, Engine.Jobs.ItemStatus.Compensated, 1, null, null, null, DateTimeOffset.UnixEpoch, TimeSpan.Zero)]);
        Assert.Equal("300", await ScalarAsync($"SELECT count(*) FROM batchops.items WHERE job_id = '{job.Id}'"));
        Assert.Equal((205L, 1L), ((await store.GetJobAsync(job.Id))!.Counts.Succeeded, (await store.GetJobAsync(job.Id))!.Counts.Compensated));
    }

    [Fact]
    public async Task ItemsAddedAsChunks_AreOnePendingBlockEach_AndAChunkThatSucceedsWholeChangesOnlyItsBlock()
    {
        using var store = CreateSut();
        var job = NewJob();
        await store.CreateJobAsync(job);
        await store.AddItemBlocksAsync(job.Id, Enumerable.Range(0, 250).Select(i => new StoredItem { Index = i, Input = $"{i}" }).Append(new StoredItem { Index = 300, Input = "lone" }).ToList(), 100);
        string Blocks() => $"SELECT string_agg(first_idx || '-' || last_idx || ':' || status, ',' ORDER BY first_idx) FROM batchops.item_blocks WHERE job_id = '{job.Id}'";
        // The last slice has a gap (249, 300): it stays rows.
        Assert.Equal("0-99:0,100-199:0", await ScalarAsync(Blocks()));
        Assert.Equal("51", await ScalarAsync($"SELECT count(*) FROM batchops.items WHERE job_id = '{job.Id}'"));
        Assert.Equal((251L, 251L), ((await store.GetJobAsync(job.Id))!.Counts.Total, (await store.GetJobAsync(job.Id))!.Counts.Pending));

        ItemOutcome Done(int i, bool failed = false) => new(
            i, failed ? Engine.Jobs.ItemStatus.Failed : Engine.Jobs.ItemStatus.Succeeded, 1, $"o{i}", failed ? new Engine.Jobs.ItemError("E", "bad", null, false) : null, null, DateTimeOffset.UnixEpoch, TimeSpan.Zero);
        await store.CheckpointAsync(job.Id, Enumerable.Range(0, 100).Select(i => Done(i)).ToList());
        await store.CheckpointAsync(job.Id, Enumerable.Range(100, 100).Select(i => Done(i, failed: i == 150)).ToList());

        // The first chunk's block changed in place; the second, with a failure, became rows.
        Assert.Equal("0-99:2", await ScalarAsync(Blocks()));
        Assert.Equal("151", await ScalarAsync($"SELECT count(*) FROM batchops.items WHERE job_id = '{job.Id}'"));
        var counts = (await store.GetJobAsync(job.Id))!.Counts;
        Assert.Equal((251L, 199L, 1L, 51L), (counts.Total, counts.Succeeded, counts.Failed, counts.Pending));
        Assert.Equal("o42", (await store.GetItemsAsync(job.Id, new ItemQuery { Indexes = [42] }).SingleAsync()).Output);
    }

    private async Task<string?> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (await command.ExecuteScalarAsync())?.ToString();
    }
}
