using System.Data.Common;
using System.Text.Json;
using BatchOps.Cli.Tests.Support;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Tests.Support;
using BatchOps.Sql;
using BatchOps.Testing;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace BatchOps.Cli.Tests.Sql;

/// <summary>The sql operation against a real database; each test runs on PostgreSQL and on SQLite.</summary>
public abstract class SqlOperationTests : IDisposable
{
    private const string ProductsTable = "CREATE TABLE products (sku text PRIMARY KEY, name text NOT NULL, price numeric, qty integer)";

    protected TempFolder Folder { get; } = new();

    protected abstract string Provider { get; }

    public void Dispose()
    {
        Folder.Dispose();
        GC.SuppressFinalize(this);
    }

    protected abstract Task<string> NewDatabaseAsync();

    protected abstract DbConnection Connect(string connection);

    [Fact]
    public async Task Insert_WritesEveryRowOnceInChunks()
    {
        var db = await DatabaseAsync(ProductsTable);
        var (summary, observer) = await RunAsync(db, new SqlTarget { Mode = "insert" }, Products(0, 1_000), chunkSize: 100, throttle: 4);

        Assert.Equal(JobStatus.Completed, summary.Status);
        Assert.Equal(1_000, summary.Succeeded);
        Assert.All(observer.Results, r => Assert.Equal("inserted", r.Output));
        Assert.Equal(1_000L, await ScalarAsync(db, "SELECT count(*) FROM products"));
        Assert.Equal("name 417", await ScalarAsync(db, "SELECT name FROM products WHERE sku = 'S417'"));
        Assert.Equal(4.17m, Convert.ToDecimal(await ScalarAsync(db, "SELECT price FROM products WHERE sku = 'S417'"), System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Upsert_InsertsNewKeysAndUpdatesOnlyTheUpdateColumnsOfExistingRows()
    {
        var db = await DatabaseAsync(ProductsTable);
        await RunAsync(db, new SqlTarget { Mode = "insert" }, Products(0, 10));
        var changed = Products(5, 10).Select(p => new { p.sku, name = "renamed", price = "99.5", p.qty }).ToArray();

        var (summary, observer) = await RunAsync(db, new SqlTarget { Mode = "upsert", Key = ["sku"], UpdateColumns = ["price"] }, changed, chunkSize: 4);

        Assert.Equal(10, summary.Succeeded);
        Assert.Equal(["updated", "updated", "updated", "updated", "updated", "inserted", "inserted", "inserted", "inserted", "inserted"], observer.Results.OrderBy(r => r.Index).Select(r => r.Output));
        Assert.Equal(15L, await ScalarAsync(db, "SELECT count(*) FROM products"));
        Assert.Equal("name 7", await ScalarAsync(db, "SELECT name FROM products WHERE sku = 'S7'"));
        Assert.Equal("renamed", await ScalarAsync(db, "SELECT name FROM products WHERE sku = 'S12'"));
        Assert.Equal(99.5m, Convert.ToDecimal(await ScalarAsync(db, "SELECT price FROM products WHERE sku = 'S7'"), System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task UpdateAndDelete_ChangeMatchedRowsAndReportKeysNotFound()
    {
        var db = await DatabaseAsync(ProductsTable);
        await RunAsync(db, new SqlTarget { Mode = "insert" }, Products(0, 10));

        var (_, updated) = await RunAsync(db, new SqlTarget { Mode = "update", Key = ["sku"] }, new object[] { new { sku = "S3", qty = 300 }, new { sku = "NOPE", qty = 1 } });
        var (_, deleted) = await RunAsync(db, new SqlTarget { Mode = "delete", Key = ["sku"] }, new object[] { new { sku = "S4" }, new { sku = "S5", name = "ignored" }, new { sku = "GONE" } });

        Assert.Equal(["updated", "not found"], updated.Results.OrderBy(r => r.Index).Select(r => r.Output));
        Assert.Equal(["deleted", "deleted", "not found"], deleted.Results.OrderBy(r => r.Index).Select(r => r.Output));
        Assert.Equal(300L, Convert.ToInt64(await ScalarAsync(db, "SELECT qty FROM products WHERE sku = 'S3'"), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("name 3", await ScalarAsync(db, "SELECT name FROM products WHERE sku = 'S3'"));
        Assert.Equal(8L, await ScalarAsync(db, "SELECT count(*) FROM products"));
    }

    [Fact]
    public async Task FailingChunk_IsBisectedToExactlyTheBadRows_TheGoodRowsCommit()
    {
        var db = await DatabaseAsync(ProductsTable);
        await RunAsync(db, new SqlTarget { Mode = "insert" }, Products(10_000, 1));
        var rows = Products(0, 200).Cast<object>().ToArray();
        rows[17] = new { sku = "S17", name = "n", price = "abc", qty = 1 };     // not a number
        rows[50] = new { sku = "S10000", name = "dup", price = "1", qty = 1 }; // unique violation
        rows[51] = new { sku = "S51", name = (string?)null, price = "1", qty = 1 }; // NOT NULL
        rows[150] = new { sku = "S150", name = "n", price = "1", qty = "12x" };  // not an integer

        var (summary, observer) = await RunAsync(db, new SqlTarget { Mode = "insert" }, rows, chunkSize: 64);

        Assert.Equal(JobStatus.CompletedWithErrors, summary.Status);
        Assert.Equal([17L, 50, 51, 150], observer.Results.Where(r => r.Status == ItemStatus.Failed).Select(r => r.Index).Order());
        Assert.Equal("row 17: column price: 'abc' is not a number", observer[17].Error!.Message);
        Assert.Contains("qty", observer[150].Error!.Message, StringComparison.Ordinal);
        Assert.Contains("unique", observer[50].Error!.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("name", observer[51].Error!.Message, StringComparison.Ordinal);
        Assert.All(observer.Results.Where(r => r.Status == ItemStatus.Failed), r => Assert.False(r.Error!.IsRetryable));
        Assert.Equal(197L, await ScalarAsync(db, "SELECT count(*) FROM products"));
    }

    [Fact]
    public async Task DryRun_ReportsWhatWouldChangeAndChangesNothing()
    {
        var db = await DatabaseAsync(ProductsTable);
        await using (var seed = Connect(db))
        {
            await seed.OpenAsync();
            await ExecuteAsync(seed, "INSERT INTO products (sku, name) VALUES ('S1', 'one')");
        }

        var operation = await OpenAsync(db, new SqlTarget { Mode = "upsert", Key = ["sku"] });
        var reports = new List<SqlChunkReport>();
        operation.ChunkCompleted = r => { lock (reports) { reports.Add(r); } };
        var (summary, observer) = await RunAsync(operation, Products(0, 5), chunkSize: 2, throttle: 1, dryRun: true);

        Assert.Equal(5, summary.Succeeded);
        Assert.Equal(["would insert", "would update", "would insert", "would insert", "would insert"], observer.Results.OrderBy(r => r.Index).Select(r => r.Output));
        Assert.Equal(3, reports.Count);
        Assert.Equal(1, reports.Single(r => r.FirstIndex == 0).Counts["would update"]);
        Assert.Equal(1L, await ScalarAsync(db, "SELECT count(*) FROM products"));
        Assert.Equal("one", await ScalarAsync(db, "SELECT name FROM products WHERE sku = 'S1'"));
        Assert.False(await TableExistsAsync(db, "batchops_applied"));
    }

    [Fact]
    public async Task MaxAffected_StopsBeforeTheChunkThatWouldPassIt_AndResumeWithAHigherLimitFinishes()
    {
        var db = await DatabaseAsync(ProductsTable);
        var (summary, observer) = await RunAsync(db, new SqlTarget { Mode = "insert", MaxAffected = 150 }, Products(0, 250), chunkSize: 100, throttle: 1, jobId: "job-max");

        Assert.Equal(JobStatus.Failed, summary.Status);
        Assert.Equal(StopReason.ErrorPolicy, summary.StopReason);
        Assert.Contains("maxAffected 150", summary.Message, StringComparison.Ordinal);
        Assert.Equal(100L, await ScalarAsync(db, "SELECT count(*) FROM products"));
        Assert.All(observer.Results.Where(r => r.Index >= 100), r => Assert.Equal(ItemStatus.Skipped, r.Status));

        // The limit counts the job's rows across runs: 100 written, so 150 more fit under 250 and 149 would not.
        var (tooLow, _) = await RunAsync(db, new SqlTarget { Mode = "insert", MaxAffected = 249 }, Products(0, 250), chunkSize: 150, throttle: 1, jobId: "job-max");
        Assert.Equal(StopReason.ErrorPolicy, tooLow.StopReason);
        var (resumed, again) = await RunAsync(db, new SqlTarget { Mode = "insert", MaxAffected = 250 }, Products(0, 250), chunkSize: 100, throttle: 1, jobId: "job-max");
        Assert.Equal(JobStatus.Completed, resumed.Status);
        Assert.Equal(250L, await ScalarAsync(db, "SELECT count(*) FROM products"));
        Assert.All(again.Results.Where(r => r.Index < 100), r => Assert.Equal("applied earlier", r.Output));
    }

    [Fact]
    public async Task Backup_HoldsTheRowsAsTheyWereBeforeAnUpdateOrDelete()
    {
        var db = await DatabaseAsync(ProductsTable);
        await RunAsync(db, new SqlTarget { Mode = "insert" }, Products(0, 10));
        var backup = Folder.File("backup/products.jsonl");

        await RunAsync(db, new SqlTarget { Mode = "update", Key = ["sku"], Backup = backup }, new object[] { new { sku = "S2", name = "two" }, new { sku = "S3", name = "three" }, new { sku = "NONE", name = "x" } });
        await RunAsync(db, new SqlTarget { Mode = "delete", Key = ["sku"], Backup = backup }, new object[] { new { sku = "S2" } });

        var lines = File.ReadAllLines(backup).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(3, lines.Length);
        Assert.Equal(["S2", "S3", "S2"], lines.Select(l => l.GetProperty("sku").GetString()));
        Assert.Equal(["name 2", "name 3", "two"], lines.Select(l => l.GetProperty("name").GetString()));
        Assert.Equal(3, lines[1].GetProperty("qty").GetInt32());
    }

    [Fact]
    public async Task ReplayedChunk_AfterItsTransactionCommitted_AppliesNothingTwice()
    {
        var db = await DatabaseAsync(ProductsTable);
        await using var operation = await OpenAsync(db, new SqlTarget { Mode = "insert" });
        var chunk = operation.ToChunkOperation("job-replay");
        var items = Products(0, 6).Select((p, i) => new BatchItem<JsonElement>(i, JsonSerializer.SerializeToElement(p))).ToArray();

        // The first call commits, then the process dies before the job store records it; the resume replays
        // a chunk cut differently (items 3 to 5 plus new 6 and 7).
        Assert.Equal(Enumerable.Repeat("inserted", 3), await chunk(items[..3], CancellationToken.None));
        var more = Products(6, 2).Select((p, i) => new BatchItem<JsonElement>(6 + i, JsonSerializer.SerializeToElement(p)));
        var replay = await chunk([.. items[1..], .. more], CancellationToken.None);

        Assert.Equal(["applied earlier", "applied earlier", "inserted", "inserted", "inserted", "inserted", "inserted"], replay);
        Assert.Equal(8L, await ScalarAsync(db, "SELECT count(*) FROM products"));
    }

    [Fact]
    public async Task BadDefinitions_AreRejectedBeforeAnythingRuns_NamingTheFix()
    {
        var db = await DatabaseAsync(ProductsTable + "; CREATE TABLE plain (a text, b text)");

        var upsert = await Assert.ThrowsAsync<SqlSpecException>(() => OpenAsync(db, new SqlTarget { Mode = "upsert", Key = ["name"] }));
        Assert.Contains("no primary key or unique index on exactly those columns", upsert.Message, StringComparison.Ordinal);
        var column = await Assert.ThrowsAsync<SqlSpecException>(() => OpenAsync(db, new SqlTarget { Mode = "insert", Columns = new() { ["cost"] = "prize" } }));
        Assert.Contains("column 'prize', which table", column.Message, StringComparison.Ordinal);
        var table = await Assert.ThrowsAsync<SqlSpecException>(() => OpenAsync(db, new SqlTarget { Mode = "insert", Table = "prodcuts" }));
        Assert.Contains("'prodcuts' does not exist", table.Message, StringComparison.Ordinal);
        var key = await Assert.ThrowsAsync<SqlSpecException>(() => OpenAsync(db, new SqlTarget { Mode = "delete" }));
        Assert.Contains("\"key\" is required for delete", key.Message, StringComparison.Ordinal);
        var env = await Assert.ThrowsAsync<SqlSpecException>(() => SqlOperation.OpenAsync(new SqlTarget { Provider = Provider, Connection = "env:BATCHOPS_TEST_UNSET_VARIABLE", Table = "products", Mode = "insert" }, Folder.Path, "spec"));
        Assert.Contains("BATCHOPS_TEST_UNSET_VARIABLE, which is not set", env.Message, StringComparison.Ordinal);

        await using var operation = await OpenAsync(db, new SqlTarget { Mode = "insert" });
        var unmapped = Assert.Throws<SqlSpecException>(() => operation.Validate(JsonSerializer.SerializeToElement(new { sku = "a", name = "b", colour = "red" }), 4));
        Assert.Contains("field 'colour' has no column", unmapped.Message, StringComparison.Ordinal);
        await using var update = await OpenAsync(db, new SqlTarget { Mode = "update", Key = ["sku"] });
        var keyOnly = Assert.Throws<SqlSpecException>(() => update.Validate(JsonSerializer.SerializeToElement(new { sku = "a" }), 2));
        Assert.Contains("item 2: has no field to update besides the key (sku)", keyOnly.Message, StringComparison.Ordinal);
        await using var ignoring = await OpenAsync(db, new SqlTarget { Mode = "insert", IgnoreUnmapped = true });
        ignoring.Validate(JsonSerializer.SerializeToElement(new { sku = "a", name = "b", colour = "red" }), 4);
    }

    protected static IEnumerable<Product> Products(int first, int count) =>
        Enumerable.Range(first, count).Select(i => new Product($"S{i}", $"name {i}", (i / 100m).ToString(System.Globalization.CultureInfo.InvariantCulture), i));

    protected async Task<string> DatabaseAsync(string ddl)
    {
        var db = await NewDatabaseAsync();
        await using var connection = Connect(db);
        await connection.OpenAsync();
        foreach (var statement in ddl.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            await ExecuteAsync(connection, statement);
        }

        return db;
    }

    protected Task<SqlOperation> OpenAsync(string db, SqlTarget target)
    {
        target.Provider = Provider;
        target.Connection = db;
        target.Table ??= "products";
        return SqlOperation.OpenAsync(target, Folder.Path, "operation");
    }

    protected async Task<(JobSummary Summary, RecordingObserver<JsonElement, string?> Observer)> RunAsync(string db, SqlTarget target, IEnumerable<object> items, int chunkSize = 100, int throttle = 2, string? jobId = null)
    {
        await using var operation = await OpenAsync(db, target);
        return await RunAsync(operation, items, chunkSize, throttle, jobId: jobId);
    }

    protected static async Task<(JobSummary Summary, RecordingObserver<JsonElement, string?> Observer)> RunAsync(SqlOperation operation, IEnumerable<object> items, int chunkSize = 100, int throttle = 2, bool dryRun = false, string? jobId = null)
    {
        var observer = new RecordingObserver<JsonElement, string?>();
        var summary = await BatchExecutor.RunAsync(
            items.Select(i => JsonSerializer.SerializeToElement(i)),
            BatchOperation<JsonElement, string?>.PerChunk(operation.ToChunkOperation(jobId ?? Guid.NewGuid().ToString("N"), dryRun)),
            new BatchOptions { ChunkSize = chunkSize, ThrottleLimit = throttle },
            observer).WaitAsync(TimeSpan.FromMinutes(2));
        return (summary, observer);
    }

    protected async Task<object?> ScalarAsync(string db, string sql)
    {
        await using var connection = Connect(db);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        var value = await command.ExecuteScalarAsync();
        return value is int or long or short ? Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture) : value;
    }

    protected abstract Task<bool> TableExistsAsync(string db, string table);

    private static async Task ExecuteAsync(DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    public sealed record Product(string sku, string name, string price, int qty);
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresSqlOperationTests(PostgresServer server) : SqlOperationTests
{
    protected override string Provider => SqlProviders.PostgreSql;

    protected override Task<string> NewDatabaseAsync() => server.CreateDatabaseAsync();

    protected override DbConnection Connect(string connection) => new NpgsqlConnection(connection);

    protected override async Task<bool> TableExistsAsync(string db, string table) =>
        (bool)(await ScalarAsync(db, $"SELECT to_regclass('{table}') IS NOT NULL"))!;

    [Fact]
    public async Task EveryColumnType_TakesTextAsCsvGivesIt_AndJsonValues_AndNamesBadValues()
    {
        var db = await DatabaseAsync(
            "CREATE TABLE typed (id int8 PRIMARY KEY, small int2, whole int4, real4 float4, real8 float8, amount numeric(12,2), flag bool, " +
            "ref uuid, day date, at timestamp, at_tz timestamptz, clock time, doc jsonb, raw bytea, address inet, note text)");
        var text = new Dictionary<string, object?>
        {
            ["id"] = " 1 ", ["small"] = "-7", ["whole"] = "42", ["real4"] = "1.5", ["real8"] = "2.25e3", ["amount"] = " 12.34 ", ["flag"] = "yes",
            ["ref"] = "0f8fad5b-d9cb-469f-a165-70867728950e", ["day"] = "2026-11-23", ["at"] = "2026-11-23 10:30:00", ["at_tz"] = "2026-11-23 10:30:00+02:00",
            ["clock"] = "07:45:30", ["doc"] = "{\"a\": 1}", ["raw"] = "AQID", ["address"] = "10.0.0.0/24", ["note"] = " kept as is ",
        };
        var json = new Dictionary<string, object?>
        {
            ["id"] = 2, ["small"] = 7, ["whole"] = true, ["real4"] = 1.5, ["real8"] = 2250, ["amount"] = 12.34m, ["flag"] = false,
            ["ref"] = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e"), ["day"] = "2026-11-23T00:00:00", ["at"] = "2026-11-23T10:30:00Z", ["at_tz"] = "2026-11-23T08:30:00Z",
            ["clock"] = "07:45", ["doc"] = new { a = 1 }, ["raw"] = "", ["address"] = "::1", ["note"] = 5,
        };
        var (summary, _) = await RunAsync(db, new SqlTarget { Mode = "insert", Table = "typed" }, [text, json], chunkSize: 1);
        Assert.Equal(2, summary.Succeeded);
        Assert.Equal(
            "1|-7|42|1.5|2250|12.34|t|0f8fad5b-d9cb-469f-a165-70867728950e|2026-11-23|2026-11-23 10:30:00|2026-11-23 08:30:00+00|07:45:30|{\"a\": 1}|\\x010203|10.0.0.0/24| kept as is ",
            await ScalarAsync(db, "SET TIME ZONE 'UTC'; SELECT concat_ws('|', id, small, whole, real4, real8, amount, flag, ref, day, at, at_tz, clock, doc, raw, address, note) FROM typed WHERE id = 1"));
        Assert.Equal(
            "2|7|1|1.5|2250|12.34|f|0f8fad5b-d9cb-469f-a165-70867728950e|2026-11-23|2026-11-23 10:30:00|2026-11-23 08:30:00+00|07:45:00|{\"a\": 1}|::1|5",
            await ScalarAsync(db, "SET TIME ZONE 'UTC'; SELECT concat_ws('|', id, small, whole, real4, real8, amount, flag, ref, day, at, at_tz, clock, doc, raw, address, note) FROM typed WHERE id = 2"));

        foreach (var (column, value, reason) in new[]
        {
            ("small", "70000", "'70000' is not a whole number from -32768 to 32767"),
            ("whole", "4.5", "'4.5' is not a whole number from -2147483648 to 2147483647"),
            ("amount", "abc", "'abc' is not a number"),
            ("at_tz", "soon", "'soon' is not a date and time"),
            ("ref", "x", "'x' is not a UUID"),
            ("address", "10.0.0.0/40", "'10.0.0.0/40' is not an IP address"),
        })
        {
            var row = new Dictionary<string, object?> { ["id"] = 3, [column] = value };
            var (failed, rows) = await RunAsync(db, new SqlTarget { Mode = "insert", Table = "typed" }, [row], chunkSize: 1);
            Assert.Equal(1, failed.Failed);
            Assert.Equal($"row 0: column {column}: {reason}", Assert.Single(rows.Results).Error!.Message);
        }
    }
}

public sealed class SqliteSqlOperationTests : SqlOperationTests
{
    private int _databases;

    protected override string Provider => SqlProviders.Sqlite;

    protected override async Task<string> NewDatabaseAsync()
    {
        var path = Folder.File($"db{Interlocked.Increment(ref _databases)}.sqlite");
        await using (var create = new SqliteConnection($"Data Source={path}"))
        {
            await create.OpenAsync();
        }

        return $"Data Source={path}";
    }

    protected override DbConnection Connect(string connection) => new SqliteConnection(connection);

    protected override async Task<bool> TableExistsAsync(string db, string table) =>
        (long)(await ScalarAsync(db, $"SELECT count(*) FROM sqlite_master WHERE name = '{table}'"))! > 0;
}
