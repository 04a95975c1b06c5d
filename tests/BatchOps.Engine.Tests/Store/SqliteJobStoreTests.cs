using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using BatchOps.Engine.Tests.Support;
using Microsoft.Data.Sqlite;

namespace BatchOps.Engine.Tests.Store;

public class SqliteJobStoreTests : JobStoreContractTests, IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    protected override IJobStore CreateSut() => SqliteJobStore.Open(_folder.Path);

    protected override IJobStore OpenSecond() => SqliteJobStore.Open(_folder.Path);

    [Fact]
    public void Open_NewFolder_CreatesPrivateWalStoreFile()
    {
        using var store = CreateSut();

        var path = _folder.File(StoreLocation.DatabaseFileName);
        Assert.Equal(path, store.Location);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        using var connection = new SqliteConnection($"Data Source={path}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", command.ExecuteScalar());
        command.CommandText = "PRAGMA user_version";
        Assert.Equal((long)SqliteJobStore.SchemaVersion, command.ExecuteScalar());
    }

    [Fact]
    public void Open_CorruptFile_ThrowsClearErrorAndLeavesFileUntouched()
    {
        var path = _folder.File(StoreLocation.DatabaseFileName);
        var garbage = Enumerable.Range(0, 8192).Select(i => (byte)(i * 7)).ToArray();
        File.WriteAllBytes(path, garbage);

        var error = Assert.Throws<StoreException>(CreateSut);

        Assert.Contains("is not a BatchOps job store", error.Message, StringComparison.Ordinal);
        Assert.Contains("left untouched", error.Message, StringComparison.Ordinal);
        Assert.Contains(StoreLocation.HomeVariable, error.Message, StringComparison.Ordinal);
        Assert.Equal(garbage, File.ReadAllBytes(path));
    }

    [Fact]
    public void Open_ForeignSqliteDatabase_ThrowsClearErrorAndLeavesFileUntouched()
    {
        var path = _folder.File(StoreLocation.DatabaseFileName);
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "CREATE TABLE invoices (id INTEGER); INSERT INTO invoices VALUES (1);";
            command.ExecuteNonQuery();
        }

        var before = File.ReadAllBytes(path);
        var error = Assert.Throws<StoreException>(CreateSut);

        Assert.Contains("another application", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public void Open_StoreFromNewerSchema_ThrowsUpgradeErrorAndLeavesFileUntouched()
    {
        using (CreateSut())
        {
        }

        var path = _folder.File(StoreLocation.DatabaseFileName);
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA user_version = 99;";
            command.ExecuteNonQuery();
        }

        SqliteConnection.ClearAllPools();
        var before = File.ReadAllBytes(path);
        var error = Assert.Throws<StoreException>(CreateSut);

        Assert.Contains($"newer BatchOps (store schema 99; this version reads up to {SqliteJobStore.SchemaVersion})", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public void Open_ReadOnlyFolderWithoutStore_ThrowsErrorNamingTheFix()
    {
        var folder = Path.Combine(_folder.Path, "locked");
        Directory.CreateDirectory(folder);
        ReadOnlyFolder.Make(folder);

        var error = Assert.Throws<StoreException>(() => SqliteJobStore.Open(folder));

        Assert.Contains("Cannot create the job store", error.Message, StringComparison.Ordinal);
        Assert.Contains("writable", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Open_ReadOnlyFolderWithStore_ThrowsErrorAndKeepsRecordedOutcomes()
    {
        var folder = Path.Combine(_folder.Path, "locked");
        var job = NewJob();
        using (var store = SqliteJobStore.Open(folder))
        {
            await store.CreateJobAsync(job);
            await store.AddItemsAsync(job.Id, [new StoredItem { Index = 0, Input = "1" }]);
            await store.CheckpointAsync(job.Id, [new ItemOutcome(0, ItemStatus.Succeeded, 1, "ok", null, null, DateTimeOffset.UnixEpoch, TimeSpan.Zero)]);
        }

        SqliteConnection.ClearAllPools();
        var path = Path.Combine(folder, StoreLocation.DatabaseFileName);
        foreach (var sidecar in new[] { "-wal", "-shm" })
        {
            File.Delete(path + sidecar);
        }

        var before = File.ReadAllBytes(path);
        ReadOnlyFolder.Make(folder);

        var error = Assert.Throws<StoreException>(() => SqliteJobStore.Open(folder));

        Assert.Contains("Cannot write to the job store", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public async Task Counts_KeptWithTheItems_MatchAScanThroughBlocksFailuresRetriesAndRemoval()
    {
        using var store = CreateSut();
        var job = NewJob();
        await store.CreateJobAsync(job);
        await store.AddItemBlocksAsync(job.Id, Enumerable.Range(0, 1000).Select(i => new StoredItem { Index = i, Input = $"{i}" }).ToList(), 100);
        await store.AddItemsAsync(job.Id, [new StoredItem { Index = 1000, Input = "loose" }]);
        var error = new ItemError("E", "bad", null, false);
        // Block 0 succeeds whole; block 1 has one failure (so it is written out as rows); the loose item fails.
        await store.CheckpointAsync(job.Id, Enumerable.Range(0, 100).Select(i => Outcome(i, ItemStatus.Succeeded, null)).ToList());
        await store.CheckpointAsync(job.Id, Enumerable.Range(100, 100).Select(i => Outcome(i, i == 150 ? ItemStatus.Failed : ItemStatus.Succeeded, i == 150 ? error : null)).ToList());
        await store.CheckpointAsync(job.Id, [Outcome(1000, ItemStatus.Failed, error)]);
        Assert.Equal([150L, 1000L], await store.ResetFailedAsync(job.Id, null));
        await store.CheckpointAsync(job.Id, [Outcome(150, ItemStatus.Succeeded, null)]);

        var counts = (await store.GetJobAsync(job.Id))!.Counts;
        Assert.Equal((1001L, 200L, 801L, 0L), (counts.Total, counts.Succeeded, counts.Pending, counts.Failed));
        Assert.Equal(ScanCounts(job.Id), (counts.Succeeded, counts.Pending, counts.Failed));

        Assert.True(await store.RemoveJobAsync(job.Id));
        Assert.Equal(0L, StoreScalar($"SELECT count(*) FROM job_counts WHERE job_id = '{job.Id}'"));

        static ItemOutcome Outcome(long index, ItemStatus status, ItemError? error) =>
            new(index, status, 1, error is null ? "ok" : null, error, null, DateTimeOffset.UnixEpoch, TimeSpan.Zero);
    }

    [Fact]
    public async Task Open_StoreOfSchema3_MigratesAndCountsWhatItHolds()
    {
        string id;
        using (var store = CreateSut())
        {
            var job = NewJob();
            id = job.Id;
            await store.CreateJobAsync(job);
            await store.AddItemBlocksAsync(job.Id, Enumerable.Range(0, 300).Select(i => new StoredItem { Index = i, Input = "x" }).ToList(), 100);
            await store.CheckpointAsync(job.Id, [new ItemOutcome(5, ItemStatus.Failed, 1, null, new ItemError("E", "bad", null, false), null, DateTimeOffset.UnixEpoch, TimeSpan.Zero)]);
        }

        SqliteConnection.ClearAllPools();
        StoreScalar(
            DropSchema5 + CountTriggers.Replace("CREATE TRIGGER", "DROP TRIGGER", StringComparison.Ordinal) +
            "DROP INDEX jobs_by_status; DROP TABLE job_counts; PRAGMA user_version = 3; SELECT 0;");

        using var reopened = CreateSut();
        var counts = (await reopened.GetJobAsync(id))!.Counts;
        Assert.Equal((300L, 299L, 1L), (counts.Total, counts.Pending, counts.Failed));
        Assert.Equal((long)SqliteJobStore.SchemaVersion, StoreScalar("PRAGMA user_version"));
    }

    /// <summary>What schema 10 added (notifications), for tests that take a store back to an older schema.</summary>
    private static readonly string DropSchema9 = "DROP INDEX jobs_to_notify; DROP TABLE job_notices; ALTER TABLE jobs DROP COLUMN notify; ";

    /// <summary>What schema 9 changed (counts per stage): job_counts as schema 4 made it, and no job_stages.</summary>
    private static readonly string DropSchema8 = DropSchema9 +
        CountTriggers.Replace("CREATE TRIGGER", "DROP TRIGGER", StringComparison.Ordinal) + "DROP TABLE job_counts; DROP TABLE job_stages; DROP INDEX jobs_by_status; " + SqliteSchema.Migrations[3];

    /// <summary>What schemas 7 and 8 added (input_open, item_retries), for tests that take a store back to an older schema.</summary>
    private static readonly string DropSchema7 = DropSchema8 + "DROP TABLE item_retries; ALTER TABLE jobs DROP COLUMN input_open; ";

    private static readonly string DropSchema5 = DropSchema7 + "ALTER TABLE jobs DROP COLUMN stages; ALTER TABLE jobs DROP COLUMN undo; ALTER TABLE jobs DROP COLUMN rolling_back; ";

    // (Initialized in this order: each uses the one before it.)

    [Fact]
    public async Task Open_StoreOfSchema8_CountsItsStagedJobsPerStage_FromWhatItHolds()
    {
        JobRecord job;
        using (var store = CreateSut())
        {
            job = await RecordStagedWorkAsync(store);
        }

        SqliteConnection.ClearAllPools();
        StoreScalar(DropSchema8 + "PRAGMA user_version = 8; SELECT 0;");

        using var reopened = CreateSut();
        var tallies = await reopened.GetStageTalliesAsync(job);
        Assert.Equal((await StageTally.ScanAsync(reopened, job)).Select(t => t.Counts), tallies.Select(t => t.Counts));
        Assert.Equal([198L, 8L, 0L], tallies.Select(t => t.Counts.Succeeded));
        Assert.Equal(T0.AddSeconds(31), tallies[1].EndedAt); // times from the item rows the store held
        Assert.Equal((long)SqliteJobStore.SchemaVersion, StoreScalar("PRAGMA user_version"));
    }

    /// <summary>The six count triggers' names, as "CREATE TRIGGER name; …".</summary>
    private const string CountTriggers =
        "CREATE TRIGGER items_counted_insert; CREATE TRIGGER items_counted_update; CREATE TRIGGER items_counted_delete; " +
        "CREATE TRIGGER item_blocks_counted_insert; CREATE TRIGGER item_blocks_counted_update; CREATE TRIGGER item_blocks_counted_delete; ";

    [Fact]
    public async Task Open_StoreOfSchema7_KeepsItsItems_AndRecordsRetriesFromThenOn()
    {
        string id;
        using (var store = CreateSut())
        {
            var job = NewJob();
            id = job.Id;
            await store.CreateJobAsync(job);
            await store.AddItemsAsync(job.Id, [new StoredItem { Index = 0, Input = "x" }, new StoredItem { Index = 1, Input = "y" }]);
            await store.CheckpointAsync(job.Id, [new ItemOutcome(0, ItemStatus.Succeeded, 1, "done", null, null, DateTimeOffset.UnixEpoch, TimeSpan.FromMilliseconds(3))]);
        }

        SqliteConnection.ClearAllPools();
        StoreScalar(DropSchema8 + "DROP TABLE item_retries; PRAGMA user_version = 7; SELECT 0;");

        using var reopened = CreateSut();
        Assert.Equal("done", (await reopened.GetItemsAsync(id, ItemQuery.All).ToListAsync())[0].Output);
        var retry = new ItemRetry(0, 1, "HttpStatus", 429, "answered 429", TimeSpan.FromSeconds(1), DateTimeOffset.UnixEpoch);
        await reopened.CheckpointAsync(id, [new ItemOutcome(1, ItemStatus.Succeeded, 2, "ok", null, null, DateTimeOffset.UnixEpoch, TimeSpan.FromSeconds(1)) { Retries = [retry] }]);
        Assert.Equal(retry, Assert.Single(await reopened.GetItemRetriesAsync(id, 1)));
        Assert.Equal((long)SqliteJobStore.SchemaVersion, StoreScalar("PRAGMA user_version"));
    }

    [Fact]
    public async Task Open_StoreOfSchema4_MigratesToStagesAndRollback()
    {
        string id;
        using (var store = CreateSut())
        {
            var job = NewJob();
            id = job.Id;
            await store.CreateJobAsync(job);
            await store.AddItemsAsync(job.Id, [new StoredItem { Index = 0, Input = "x" }]);
        }

        SqliteConnection.ClearAllPools();
        StoreScalar(DropSchema5 + "PRAGMA user_version = 4; SELECT 0;");

        using var reopened = CreateSut();
        var read = (await reopened.GetJobAsync(id))!;
        Assert.Equal((false, (IReadOnlyList<JobStage>?)null, (UndoDefinition?)null, 1L), (read.RollingBack, read.Stages, read.Undo, read.Counts.Pending));
        await reopened.BeginRollbackAsync(id);
        Assert.True((await reopened.GetJobAsync(id))!.RollingBack);
        Assert.Equal((long)SqliteJobStore.SchemaVersion, StoreScalar("PRAGMA user_version"));
    }

    protected override Task RewindBeforeSecretsScrubAsync()
    {
        SqliteConnection.ClearAllPools();
        StoreScalar(DropSchema7 + "PRAGMA user_version = 5; SELECT 0;");
        return Task.CompletedTask;
    }

    protected override Task<byte[]> StoredBytesAsync()
    {
        // Every file of the store folder as it is on disk (the WAL too), read while the store may be open.
        var bytes = new List<byte>();
        foreach (var file in Directory.GetFiles(_folder.Path, "*", SearchOption.AllDirectories))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            bytes.AddRange(copy.ToArray());
        }

        return Task.FromResult(bytes.ToArray());
    }

    private (long Succeeded, long Pending, long Failed) ScanCounts(string jobId)
    {
        long Of(ItemStatus status) => StoreScalar(
            $"SELECT (SELECT count(*) FROM items WHERE job_id = '{jobId}' AND status = {(int)status}) + " +
            $"(SELECT coalesce(sum(last_idx - first_idx + 1), 0) FROM item_blocks WHERE job_id = '{jobId}' AND status = {(int)status})");
        return (Of(ItemStatus.Succeeded), Of(ItemStatus.Pending), Of(ItemStatus.Failed));
    }

    private long StoreScalar(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(_folder.Path, StoreLocation.DatabaseFileName)};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Open_ManyAtOnceOnANewFolder_MigratesOnce()
    {
        // Regression: two processes creating the store together both ran the first migration.
        var folder = Path.Combine(_folder.Path, "fresh");
        var stores = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() => SqliteJobStore.Open(folder))));

        foreach (var store in stores)
        {
            Assert.Empty(await store.FindJobsAsync(new JobQuery()));
            store.Dispose();
        }
    }

}
