using System.Globalization;
using System.Text.Json;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using BatchOps.Sql;
using BatchOps.Testing;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;

namespace BatchOps.Benchmarks;

/// <summary>
/// The sql operation as users run it (`batchops run` of a spec with an itemsFile: the file checked line by
/// line, a durable job in the SQLite job store, one database transaction per chunk) next to hand-written
/// loaders of the same JSON Lines file: one Npgsql binary COPY, COPY into a temporary table plus INSERT …
/// ON CONFLICT, and SQLite prepared inserts in 10,000-row transactions. Both sides read and parse the same
/// file; writing it is not timed. PostgreSQL is a throwaway cluster on a Unix socket (fsync off for both sides).
/// </summary>
public sealed partial class Scenarios
{
    private const string ProductsTable = "CREATE TABLE products (id bigint PRIMARY KEY, sku text NOT NULL, name text NOT NULL, price numeric(12,2), qty integer, updated_at timestamptz)";
    private PostgresCluster? _postgres;
    private readonly Dictionary<long, string> _rowFiles = [];

    private int SqlRows => Scale(1_000_000, 100_000);

    /// <summary>One row as a JSON item, as a JSON Lines file or Import-Csv would give it (6 fields).</summary>
    private static JsonElement Row(long id) => JsonSerializer.SerializeToElement(new Dictionary<string, object>
    {
        ["id"] = id,
        ["sku"] = $"SKU-{id:D8}",
        ["name"] = $"Product {id}",
        ["price"] = (id % 10_000 / 100m).ToString(CultureInfo.InvariantCulture),
        ["qty"] = (int)(id % 500),
        ["updated_at"] = "2026-11-23T10:00:00Z",
    });

    private static IEnumerable<JsonElement> Rows(long from, long count)
    {
        for (var id = from; id < from + count; id++)
        {
            yield return Row(id);
        }
    }

    public async Task<ScenarioResult> SqlInsertAsync()
    {
        if (await PostgresAsync() is not { } cluster)
        {
            return Skipped("sql-insert");
        }

        var db = await cluster.CreateDatabaseAsync();
        await ExecuteAsync(db, ProductsTable);
        var count = SqlRows;
        var rows = await RowsFileAsync(count);
        var (hand, job, jobFigures) = await BestOfTwoAsync(
            async file => await Measure.TimeAsync(() => HandCopyAsync(db, file)),
            (file, rowCount, round) => SqlJobAsync($"sql-insert-{round}", SqlProviders.PostgreSql, db, "insert", file, rowCount, chunk: 10_000, throttle: Environment.ProcessorCount),
            async (written, _) =>
            {
                await VerifyCountAsync(db, written);
                await ExecuteAsync(db, "TRUNCATE products");
            },
            rows, count);
        var perChunk = await Measure.TimeAsync(() => HandCopyPerChunkAsync(db, rows, 10_000));
        await VerifyCountAsync(db, count);
        await ExecuteAsync(db, "TRUNCATE products");
        var noStore = await NoStoreAsync(db, rows);
        var read = await Measure.TimeAsync(() => Task.Run(() => ReadRows(rows).Count()));
        var figures = new Dictionary<string, double>(jobFigures) { ["rows"] = count, ["handCopyMs"] = hand.TotalMilliseconds, ["handCopyPerChunkMs"] = perChunk.TotalMilliseconds, ["engineWithoutStoreMs"] = noStore.TotalMilliseconds, ["readingAndParsingTheFileMs"] = read.TotalMilliseconds };
        return Result("sql-insert", "job rows/s", count / job.TotalSeconds, "hand binary COPY rows/s", count / hand.TotalSeconds, ">= 0.7", 0.7, figures);
    }

    public async Task<ScenarioResult> SqlUpsertAsync()
    {
        if (await PostgresAsync() is not { } cluster)
        {
            return Skipped("sql-upsert");
        }

        var db = await cluster.CreateDatabaseAsync();
        await ExecuteAsync(db, ProductsTable);
        var count = SqlRows;

        // Half the rows exist before each side runs: the upsert inserts half and updates half.
        var rows = await RowsFileAsync(count);
        await ResetHalfAsync(db, WarmRows);
        var (hand, job, jobFigures) = await BestOfTwoAsync(
            async file => await Measure.TimeAsync(() => HandUpsertAsync(db, file)),
            (file, rowCount, round) => SqlJobAsync($"sql-upsert-{round}", SqlProviders.PostgreSql, db, "upsert", file, rowCount, chunk: 10_000, throttle: Environment.ProcessorCount),
            async (written, next) =>
            {
                await VerifyCountAsync(db, written);
                await ResetHalfAsync(db, next);
            },
            rows, count);
        var figures = new Dictionary<string, double>(jobFigures) { ["rows"] = count, ["handUpsertMs"] = hand.TotalMilliseconds };
        return Result("sql-upsert", "job rows/s", count / job.TotalSeconds, "hand COPY + ON CONFLICT rows/s", count / hand.TotalSeconds, ">= 0.7", 0.7, figures);
    }

    public async Task<ScenarioResult> SqliteInsertAsync()
    {
        var count = SqlRows;
        var folder = Folder("sqlite-insert");
        var handFile = Path.Combine(folder, "hand.db");
        var jobFile = Path.Combine(folder, "job.db");
        foreach (var file in new[] { handFile, jobFile })
        {
            using var connection = new SqliteConnection($"Data Source={file}");
            connection.Open();
            using var create = connection.CreateCommand();
            create.CommandText = "PRAGMA journal_mode=WAL; CREATE TABLE products (id INTEGER PRIMARY KEY, sku TEXT NOT NULL, name TEXT NOT NULL, price NUMERIC, qty INTEGER, updated_at TEXT)";
            create.ExecuteNonQuery();
        }

        var rows = await RowsFileAsync(count);
        var hand = await Task.Run(() => Measure.TimeAsync(() => Task.Run(() => HandSqlite(handFile, rows))));
        var (job, jobFigures) = await SqlJobAsync("sqlite-insert", SqlProviders.Sqlite, jobFile, "insert", rows, count, chunk: 10_000, throttle: 1);
        SqliteConnection.ClearAllPools();
        var figures = new Dictionary<string, double>(jobFigures) { ["rows"] = count, ["handMs"] = hand.TotalMilliseconds };
        return Result("sqlite-insert", "job rows/s", count / job.TotalSeconds, "hand prepared inserts rows/s", count / hand.TotalSeconds, ">= 0.7", 0.7, figures);
    }

    private int WarmRows => Scale(50_000, 5_000);

    /// <summary>
    /// Both sides once over a small file first (first-use costs: the JIT, Npgsql's type setup, the engine's
    /// paths), untimed; then each side twice over the full file, alternating, the best of each kept. One
    /// cold run of each measured the JIT more than the loaders. <paramref name="check"/> runs after every
    /// run with the rows just written and the rows of the next run: it verifies the table and sets it up for the next.
    /// </summary>
    private async Task<(TimeSpan Hand, TimeSpan Job, Dictionary<string, double> JobFigures)> BestOfTwoAsync(
        Func<string, Task<TimeSpan>> hand,
        Func<string, long, int, Task<(TimeSpan Elapsed, Dictionary<string, double> Figures)>> job,
        Func<long, long, Task> check,
        string rows,
        long count)
    {
        var warm = await RowsFileAsync(WarmRows);
        await hand(warm);
        await check(WarmRows, WarmRows);
        await job(warm, WarmRows, -1);
        await check(WarmRows, count);
        var bestHand = TimeSpan.MaxValue;
        var bestJob = TimeSpan.MaxValue;
        Dictionary<string, double> figures = [];
        for (var round = 0; round < 2; round++)
        {
            var h = await hand(rows);
            await check(count, count);
            var (j, f) = await job(rows, count, round);
            await check(count, count);
            bestHand = h < bestHand ? h : bestHand;
            if (j < bestJob)
            {
                (bestJob, figures) = (j, f);
            }
        }

        return (bestHand, bestJob, figures);
    }

    /// <summary>Peak working set of the PostgreSQL insert job at full size versus a tenth of it.</summary>
    public async Task<ScenarioResult> SqlMemoryAsync()
    {
        if (await PostgresAsync() is not { } cluster)
        {
            return Skipped("sql-memory");
        }

        var large = SqlRows;
        var small = large / 10;
        var db = await cluster.CreateDatabaseAsync();
        await ExecuteAsync(db, ProductsTable);
        var smallRows = await RowsFileAsync(small);
        var largeRows = await RowsFileAsync(large);
        var smallRun = await Measure.WithMemoryAsync(() => SqlJobAsync("sql-memory-small", SqlProviders.PostgreSql, db, "insert", smallRows, small, chunk: 10_000, throttle: Environment.ProcessorCount));
        await ExecuteAsync(db, "TRUNCATE products");
        var largeRun = await Measure.WithMemoryAsync(() => SqlJobAsync("sql-memory-large", SqlProviders.PostgreSql, db, "insert", largeRows, large, chunk: 10_000, throttle: Environment.ProcessorCount));
        var ratio = (double)largeRun.PeakWorkingSet / smallRun.PeakWorkingSet;
        return Result("sql-memory", "peak working set MB (large)", largeRun.PeakWorkingSet / 1e6, "peak working set MB (1/10 rows)", smallRun.PeakWorkingSet / 1e6, "<= 1.5", 1.5, new()
        {
            ["rowsLarge"] = large,
            ["rowsSmall"] = small,
            ["peakHeapMbLarge"] = largeRun.PeakHeap / 1e6,
            ["peakHeapMbSmall"] = smallRun.PeakHeap / 1e6,
        }, lowerIsBetter: true, ratio: ratio);
    }

    /// <summary>
    /// Peak resident memory of `batchops run` (a child process) loading a JSON Lines file of 1,000,000 rows
    /// into PostgreSQL, against the same command with 100,000 rows: the items file is checked and recorded
    /// line by line, never held whole.
    /// </summary>
    public async Task<ScenarioResult> SqlCliMemoryAsync()
    {
        if (await PostgresAsync() is not { } cluster)
        {
            return Skipped("sql-cli-memory");
        }

        var large = SqlRows;
        var small = large / 10;
        var db = await cluster.CreateDatabaseAsync();
        await ExecuteAsync(db, ProductsTable);
        var folder = Folder("sql-cli-memory");
        var smallRun = await RunCliAsync(folder, db, "small", 0, small);
        var largeRun = await RunCliAsync(folder, db, "large", small, large);
        await VerifyCountAsync(db, small + large);
        var ratio = (double)largeRun.PeakRss / smallRun.PeakRss;
        return Result("sql-cli-memory", "batchops run peak RSS MB (large)", largeRun.PeakRss / 1e6, "peak RSS MB (1/10 rows)", smallRun.PeakRss / 1e6, "<= 1.5", 1.5, new()
        {
            ["rowsLarge"] = large,
            ["rowsSmall"] = small,
            ["runMsLarge"] = largeRun.Elapsed.TotalMilliseconds,
            ["runMsSmall"] = smallRun.Elapsed.TotalMilliseconds,
        }, lowerIsBetter: true, ratio: ratio);
    }

    private static async Task<(long PeakRss, TimeSpan Elapsed)> RunCliAsync(string folder, string db, string name, long from, long count)
    {
        var items = Path.Combine(folder, $"{name}.jsonl");
        await File.WriteAllLinesAsync(items, Rows(from, count).Select(r => r.GetRawText()));
        var spec = Path.Combine(folder, $"{name}.json");
        await File.WriteAllTextAsync(spec, $$"""
            { "name": "{{name}}", "itemsFile": "{{name}}.jsonl",
              "operation": { "kind": "sql", "provider": "postgresql", "connection": "env:BATCHOPS_BENCH_DB", "table": "products", "mode": "insert" },
              "settings": { "chunkSize": 10000, "throttleLimit": {{Environment.ProcessorCount}} } }
            """);
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "exec", CliDll(), "run", spec, "--store", Path.Combine(folder, $"{name}-store") })
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["BATCHOPS_BENCH_DB"] = db;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var process = System.Diagnostics.Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        long peak = 0;
        while (!process.HasExited)
        {
            peak = Math.Max(peak, PeakRss(process.Id));
            await Task.Delay(50);
        }

        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"batchops run {name} exited with {process.ExitCode}: {await output}{await error}");
        }

        return (peak, clock.Elapsed);
    }

    /// <summary>VmHWM (the process's peak resident set) from /proc, in bytes; 0 once the process is gone.</summary>
    private static long PeakRss(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>
    /// Creates and runs a durable sql job over the rows file as `batchops run` does (the file checked line by
    /// line against the table, the job keeping where its rows are, the first run reading the file); returns
    /// its time, creation included.
    /// </summary>
    private async Task<(TimeSpan Elapsed, Dictionary<string, double> Figures)> SqlJobAsync(string name, string provider, string connection, string mode, string rows, long count, int chunk, int throttle)
    {
        var target = new SqlTarget { Provider = provider, Connection = connection, Table = "products", Mode = mode, Key = mode == "insert" ? null : ["id"] };
        await using var operation = await SqlOperation.OpenAsync(target, workFolder, name);
        using var store = SqliteJobStore.Open(Folder($"{name}-store"));
        var runner = new JobRunner(store);
        var created = TimeSpan.Zero;
        var elapsed = await Measure.TimeAsync(async () =>
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var items = ItemsFile.Scan(rows, chunk, operation.Validate);
            var job = await runner.CreateAsync(
                new JobDefinition { Name = name, OperationKind = SqlOperation.Kind, Operation = operation.Definition.ToStoredJson(), Settings = new JobSettings { ChunkSize = chunk, ThrottleLimit = throttle } },
                items, TextPayloadCodec.Instance.Format);
            created = clock.Elapsed;
            var result = await runner.RunAsync(job.Id, new JobRunRequest<JsonElement, string?>
            {
                Operation = BatchOperation<JsonElement, string?>.PerChunk(operation.ToChunkOperation(job.Id)),
                InputCodec = JsonPayloadCodec.Instance,
                OutputCodec = TextPayloadCodec.Instance,
                ItemsFile = items,
            });
            if (result.Job.Counts.Succeeded != count)
            {
                throw new InvalidOperationException($"{name}: the job recorded {result.Job.Counts.Succeeded} of {count} rows; {result.Job.Message}");
            }
        });
        return (elapsed, new() { ["jobCreateMs"] = created.TotalMilliseconds, ["jobRunMs"] = (elapsed - created).TotalMilliseconds, ["chunkSize"] = chunk, ["throttle"] = throttle });
    }

    /// <summary>The same insert through the engine without a job store (what the store costs).</summary>
    private async Task<TimeSpan> NoStoreAsync(string db, string rows)
    {
        var target = new SqlTarget { Provider = SqlProviders.PostgreSql, Connection = db, Table = "products", Mode = "insert" };
        await using var operation = await SqlOperation.OpenAsync(target, workFolder, "no store");
        return await Measure.TimeAsync(() => BatchExecutor.RunAsync(
            ReadRows(rows),
            BatchOperation<JsonElement, string?>.PerChunk(operation.ToChunkOperation("no-store")),
            new BatchOptions { ChunkSize = 10_000, ThrottleLimit = Environment.ProcessorCount }));
    }

    /// <summary>A JSON Lines file of <paramref name="count"/> rows (ids from 0), written once per run of the harness.</summary>
    private async Task<string> RowsFileAsync(long count)
    {
        if (!_rowFiles.TryGetValue(count, out var file))
        {
            file = Path.Combine(_rowFiles.Count == 0 ? Folder("sql-rows") : Path.Combine(workFolder, "sql-rows"), $"products-{count}.jsonl");
            await File.WriteAllLinesAsync(file, Rows(0, count).Select(r => r.GetRawText()));
            _rowFiles[count] = file;
        }

        return file;
    }

    /// <summary>The rows of a JSON Lines file as a hand-written loader reads them: a line at a time, parsed.</summary>
    private static IEnumerable<JsonElement> ReadRows(string file)
    {
        foreach (var line in File.ReadLines(file))
        {
            using var document = JsonDocument.Parse(line);
            yield return document.RootElement.Clone();
        }
    }

    /// <summary>The hand-written loader: the same JSON rows converted by hand, one binary COPY, one transaction.</summary>
    private static async Task HandCopyAsync(string db, string rows)
    {
        await using var connection = new NpgsqlConnection(db);
        await connection.OpenAsync();
        await using var writer = await connection.BeginBinaryImportAsync("COPY products (id, sku, name, price, qty, updated_at) FROM STDIN (FORMAT BINARY)");
        await WriteRowsAsync(writer, rows);
        await writer.CompleteAsync();
    }

    /// <summary>
    /// The hand loader cut as the job cuts: one binary COPY and one transaction per <paramref name="chunk"/>
    /// rows, on one connection. Not the goal's baseline (that is one COPY); it shows what chunking alone costs.
    /// </summary>
    private static async Task HandCopyPerChunkAsync(string db, string rows, int chunk)
    {
        await using var connection = new NpgsqlConnection(db);
        await connection.OpenAsync();
        using var lines = File.ReadLines(rows).GetEnumerator();
        var more = lines.MoveNext();
        while (more)
        {
            await using var transaction = await connection.BeginTransactionAsync();
            await using (var writer = await connection.BeginBinaryImportAsync("COPY products (id, sku, name, price, qty, updated_at) FROM STDIN (FORMAT BINARY)"))
            {
                for (var n = 0; n < chunk && more; n++, more = lines.MoveNext())
                {
                    await WriteRowAsync(writer, lines.Current);
                }

                await writer.CompleteAsync();
            }

            await transaction.CommitAsync();
        }
    }

    private static async Task HandUpsertAsync(string db, string rows)
    {
        await using var connection = new NpgsqlConnection(db);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var temp = new NpgsqlCommand("CREATE TEMP TABLE stage (LIKE products) ON COMMIT DROP", connection, transaction))
        {
            await temp.ExecuteNonQueryAsync();
        }

        await using (var writer = await connection.BeginBinaryImportAsync("COPY stage (id, sku, name, price, qty, updated_at) FROM STDIN (FORMAT BINARY)"))
        {
            await WriteRowsAsync(writer, rows);
            await writer.CompleteAsync();
        }

        await using (var upsert = new NpgsqlCommand("""
            INSERT INTO products SELECT * FROM stage
            ON CONFLICT (id) DO UPDATE SET sku = EXCLUDED.sku, name = EXCLUDED.name, price = EXCLUDED.price, qty = EXCLUDED.qty, updated_at = EXCLUDED.updated_at
            """, connection, transaction))
        {
            upsert.CommandTimeout = 0;
            await upsert.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
    }

    private static async Task WriteRowsAsync(NpgsqlBinaryImporter writer, string rows)
    {
        foreach (var line in File.ReadLines(rows))
        {
            await WriteRowAsync(writer, line);
        }
    }

    private static async Task WriteRowAsync(NpgsqlBinaryImporter writer, string line)
    {
        using var document = JsonDocument.Parse(line);
        var row = document.RootElement;
        await writer.StartRowAsync();
        await writer.WriteAsync(row.GetProperty("id").GetInt64(), NpgsqlDbType.Bigint);
        await writer.WriteAsync(row.GetProperty("sku").GetString(), NpgsqlDbType.Text);
        await writer.WriteAsync(row.GetProperty("name").GetString(), NpgsqlDbType.Text);
        await writer.WriteAsync(decimal.Parse(row.GetProperty("price").GetString()!, CultureInfo.InvariantCulture), NpgsqlDbType.Numeric);
        await writer.WriteAsync(row.GetProperty("qty").GetInt32(), NpgsqlDbType.Integer);
        await writer.WriteAsync(DateTimeOffset.Parse(row.GetProperty("updated_at").GetString()!, CultureInfo.InvariantCulture).UtcDateTime, NpgsqlDbType.TimestampTz);
    }

    /// <summary>The hand-written SQLite loader: one prepared INSERT, a transaction every 10,000 rows.</summary>
    private static void HandSqlite(string file, string rows)
    {
        using var connection = new SqliteConnection($"Data Source={file}");
        connection.Open();
        using var insert = connection.CreateCommand();
        insert.CommandText = "INSERT INTO products (id, sku, name, price, qty, updated_at) VALUES ($id, $sku, $name, $price, $qty, $updated)";
        var parameters = new[] { "$id", "$sku", "$name", "$price", "$qty", "$updated" }.Select(name => insert.Parameters.Add(new SqliteParameter { ParameterName = name })).ToArray();
        SqliteTransaction? transaction = null;
        long written = 0;
        foreach (var line in File.ReadLines(rows))
        {
            using var document = JsonDocument.Parse(line);
            var row = document.RootElement;
            if (written++ % 10_000 == 0)
            {
                transaction?.Commit();
                transaction?.Dispose();
                transaction = connection.BeginTransaction();
                insert.Transaction = transaction;
                insert.Prepare();
            }

            parameters[0].Value = row.GetProperty("id").GetInt64();
            parameters[1].Value = row.GetProperty("sku").GetString();
            parameters[2].Value = row.GetProperty("name").GetString();
            parameters[3].Value = decimal.Parse(row.GetProperty("price").GetString()!, CultureInfo.InvariantCulture);
            parameters[4].Value = row.GetProperty("qty").GetInt32();
            parameters[5].Value = row.GetProperty("updated_at").GetString();
            insert.ExecuteNonQuery();
        }

        transaction?.Commit();
        transaction?.Dispose();
    }

    private static async Task ResetHalfAsync(string db, long count)
    {
        await ExecuteAsync(db, "TRUNCATE products");
        await using var connection = new NpgsqlConnection(db);
        await connection.OpenAsync();
        await using var writer = await connection.BeginBinaryImportAsync("COPY products (id, sku, name, price, qty, updated_at) FROM STDIN (FORMAT BINARY)");
        for (long id = 0; id < count; id += 2)
        {
            await writer.WriteRowAsync(default, id, "old", "old", 1m, 1, DateTime.UtcNow);
        }

        await writer.CompleteAsync();
        await ExecuteAsync(db, "VACUUM ANALYZE products");
    }

    private static async Task VerifyCountAsync(string db, long count)
    {
        await using var connection = new NpgsqlConnection(db);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM products", connection);
        var rows = (long)(await command.ExecuteScalarAsync())!;
        if (rows != count)
        {
            throw new InvalidOperationException($"products holds {rows} rows, expected {count}.");
        }
    }

    private static async Task ExecuteAsync(string db, string sql)
    {
        await using var connection = new NpgsqlConnection(db);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync();
    }

    private async Task<PostgresCluster?> PostgresAsync()
    {
        if (_postgres is null)
        {
            _postgres = new PostgresCluster();
            await _postgres.StartAsync();
        }

        return _postgres.Missing is null ? _postgres : null;
    }

    /// <summary>Stops the PostgreSQL cluster, if one was started.</summary>
    public async ValueTask DisposeSqlAsync()
    {
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }
    }

    private ScenarioResult Skipped(string scenario) =>
        new(scenario, "skipped: " + _postgres?.Missing, 0, "-", 0, 0, ">= 0.7", false, new Dictionary<string, double>());
}
