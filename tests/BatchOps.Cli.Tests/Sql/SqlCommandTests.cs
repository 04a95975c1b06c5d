using System.Text.Json;
using BatchOps.Cli.Tests.Support;
using BatchOps.Engine.Tests.Support;
using BatchOps.Testing;
using Npgsql;

namespace BatchOps.Cli.Tests.Sql;

/// <summary>batchops with the sql kind against a real PostgreSQL server: specs, secrets, and crashes.</summary>
[Collection(PostgresCollection.Name)]
public sealed class SqlCommandTests(PostgresServer server) : IDisposable
{
    private readonly TempFolder _folder = new();

    private string Store => _folder.File("store");

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Run_UpsertSpecWithEnvConnection_WritesRowsAndNeverStoresTheConnectionString()
    {
        var db = await DatabaseAsync("CREATE UNIQUE INDEX ON products (sku)");
        var variable = $"BATCHOPS_TEST_DB_{Guid.NewGuid():N}";
        Environment.SetEnvironmentVariable(variable, db);
        File.WriteAllLines(_folder.File("products.jsonl"), Enumerable.Range(0, 50).Select(i => JsonSerializer.Serialize(new { sku = $"S{i}", title = $"product {i}", price = $"{i}.5" })));
        var spec = SpecFiles.WriteRaw(_folder.Path, $$"""
            { "name": "products", "itemsFile": "products.jsonl", "key": "{sku}",
              "operation": { "kind": "sql", "provider": "postgresql", "connection": "env:{{variable}}", "table": "products",
                             "mode": "upsert", "key": ["sku"], "columns": { "title": "name" } },
              "settings": { "chunkSize": 20, "throttleLimit": 2 } }
            """);

        var run = await CliHarness.RunAsync(Store, "run", spec, "--json");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(50L, await ScalarAsync(db, "SELECT count(*) FROM products"));
        Assert.Equal("product 7", await ScalarAsync(db, "SELECT name FROM products WHERE sku = 'S7'"));
        var show = await CliHarness.RunAsync(Store, "show", "products", "--items", "--json");
        Assert.Contains($"env:{variable}", show.Out, StringComparison.Ordinal);
        Assert.Contains("\"inserted\"", show.Out, StringComparison.Ordinal);
        var export = await CliHarness.RunAsync(Store, "export", "products");
        var log = string.Join('\n', Directory.GetFiles(Store, "*.log", SearchOption.AllDirectories).Select(File.ReadAllText));
        Assert.All(new[] { run.Out, run.Error, show.Out, export.Out, log }, text => Assert.DoesNotContain(new NpgsqlConnectionStringBuilder(db).Host!, text, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ExampleSpec_ProductsUpsert_RunsTwiceAndBacksUpWhatTheSecondRunChanged()
    {
        var examples = Path.Combine(RepositoryRoot(), "examples");
        File.Copy(Path.Combine(examples, "products-upsert.json"), _folder.File("products-upsert.json"));
        File.Copy(Path.Combine(examples, "products.jsonl"), _folder.File("products.jsonl"));
        var db = await DatabaseAsync("ALTER TABLE products ADD PRIMARY KEY (sku)");
        var variable = "PRODUCTS_DB";
        Environment.SetEnvironmentVariable(variable, db);

        var first = await CliHarness.RunAsync(Store, "run", _folder.File("products-upsert.json"));
        var second = await CliHarness.RunAsync(Store, "run", _folder.File("products-upsert.json"));

        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Equal(5L, await ScalarAsync(db, "SELECT count(*) FROM products"));
        Assert.Equal("Monitor 27\"", await ScalarAsync(db, "SELECT name FROM products WHERE sku = 'MN-270'"));
        Assert.Equal(5, File.ReadAllLines(_folder.File("backup/products.jsonl")).Length);
    }

    [Fact]
    public async Task DryRun_PrintsWhatEachChunkWouldDoAndChangesNothing()
    {
        var db = await DatabaseAsync("ALTER TABLE products ADD PRIMARY KEY (sku); INSERT INTO products (sku, name) VALUES ('S1', 'one')");
        var spec = SpecFiles.Write(_folder.Path, new
        {
            name = "preview",
            items = new object[] { new { sku = "S0", name = "a" }, new { sku = "S1", name = "b" }, new { sku = "S2", name = "c", price = "x" }, new { sku = "S3", name = "d" } },
            operation = new { kind = "sql", provider = "postgresql", connection = db, table = "products", mode = "upsert", key = new[] { "sku" } },
            settings = new { chunkSize = 2, throttleLimit = 1 },
        });

        var dry = await CliHarness.RunAsync(Store, "run", spec, "--dry-run");

        Assert.True(dry.ExitCode == 1, dry.ToString());
        Assert.Contains("rows 0-1: 1 would insert, 1 would update", dry.Out, StringComparison.Ordinal);
        Assert.Contains("rows 2-3: 1 would insert, 1 would fail", dry.Out, StringComparison.Ordinal); // the split chunk, added up
        Assert.Contains("would fail: row 2: column price: 'x' is not a number", dry.Out, StringComparison.Ordinal);
        Assert.Contains("Would do: 2 would insert, 1 would update, 1 would fail.", dry.Out, StringComparison.Ordinal);
        Assert.Equal(1L, await ScalarAsync(db, "SELECT count(*) FROM products"));
        Assert.Equal("one", await ScalarAsync(db, "SELECT name FROM products WHERE sku = 'S1'"));
        Assert.False((bool)(await ScalarAsync(db, "SELECT to_regclass('batchops_applied') IS NOT NULL"))!);
        var list = await CliHarness.RunAsync(Store, "list", "--json");
        Assert.DoesNotContain("preview", list.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_SpecWithPasswordOrUnknownColumn_IsRejectedBeforeAnythingIsCreated()
    {
        var db = await DatabaseAsync();
        var spec = SpecFiles.Write(_folder.Path, new
        {
            name = "bad",
            items = new[] { new { sku = "a", name = "b", colour = "red" } },
            operation = new { kind = "sql", provider = "postgresql", connection = db, table = "products", mode = "insert" },
        });
        var secret = SpecFiles.Write(_folder.Path, new
        {
            name = "secret",
            items = new[] { new { sku = "a", name = "b" } },
            operation = new { kind = "sql", provider = "postgresql", connection = "Host=127.0.0.1;Username=u;Password=hunter2", table = "products", mode = "insert" },
        }, "secret.json");

        var unmapped = await CliHarness.RunAsync(Store, "run", spec);
        var password = await CliHarness.RunAsync(Store, "run", secret);

        Assert.Equal(2, unmapped.ExitCode);
        Assert.Contains("field 'colour' has no column in table public.products", unmapped.Error, StringComparison.Ordinal);
        Assert.Equal(2, password.ExitCode);
        Assert.Contains("holds a password, and BatchOps never stores one", password.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", password.Error + password.Out, StringComparison.Ordinal);
        var list = await CliHarness.RunAsync(Store, "list", "--json");
        Assert.DoesNotContain("\"bad\"", list.Out, StringComparison.Ordinal);
        Assert.Equal(0L, await ScalarAsync(db, "SELECT count(*) FROM products"));
    }

    [Fact]
    public async Task Run_KilledWithSigkillAtFiveMoments_ResumeLeavesEveryRowExactlyOnce()
    {
        const int rows = 200_000;
        var db = await DatabaseAsync();
        File.WriteAllLines(_folder.File("rows.jsonl"), Enumerable.Range(0, rows).Select(i => $$"""{"sku":"S{{i}}","name":"n{{i}}","price":{{i % 1000}}.25,"qty":{{i}}}"""));
        var spec = SpecFiles.Write(_folder.Path, new
        {
            name = "bulk",
            itemsFile = "rows.jsonl",
            operation = new { kind = "sql", provider = "postgresql", connection = db, table = "products", mode = "insert" },
            settings = new { chunkSize = 2_000, throttleLimit = 4 },
        });

        var moments = new[] { 1, 30_000, 70_000, 110_000, 160_000 };
        for (var m = 0; m < moments.Length; m++)
        {
            using var process = m == 0 ? CliHarness.Start(Store, "run", spec) : CliHarness.Start(Store, "resume", "bulk");
            var stopwatch = System.Diagnostics.Stopwatch.StartNew();
            while ((long)(await ScalarAsync(db, "SELECT count(*) FROM products"))! < moments[m] && !process.HasExited)
            {
                Assert.True(stopwatch.Elapsed < TimeSpan.FromMinutes(2), $"no progress to {moments[m]} rows");
                await Task.Delay(20);
            }

            process.Kill();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }

        var resume = await CliHarness.RunProcessAsync(Store, TimeSpan.FromMinutes(3), "resume", "bulk");

        Assert.True(resume.ExitCode == 0, resume.ToString());
        Assert.Equal((long)rows, await ScalarAsync(db, "SELECT count(*) FROM products"));
        Assert.Equal((long)rows, await ScalarAsync(db, "SELECT count(DISTINCT qty) FROM products"));
        Assert.Equal(149_925L, await ScalarAsync(db, "SELECT sum(qty) FROM products WHERE sku IN ('S0', 'S149925')"));
    }

    private static string RepositoryRoot()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "BatchOps.sln")))
        {
            folder = folder.Parent;
        }

        return folder?.FullName ?? throw new InvalidOperationException("BatchOps.sln not found above the test folder.");
    }

    private async Task<string> DatabaseAsync(string? extra = null)
    {
        var db = await server.CreateDatabaseAsync();
        await using var connection = new NpgsqlConnection(db);
        await connection.OpenAsync();
        // No primary key, so a chunk written twice would show as duplicate rows instead of failing.
        await using var create = new NpgsqlCommand("CREATE TABLE products (sku text NOT NULL, name text NOT NULL, price numeric, qty integer)", connection);
        await create.ExecuteNonQueryAsync();
        if (extra is not null)
        {
            await using var more = new NpgsqlCommand(extra, connection);
            await more.ExecuteNonQueryAsync();
        }

        return db;
    }

    private static async Task<object?> ScalarAsync(string db, string sql)
    {
        await using var connection = new NpgsqlConnection(db);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }
}
