using BatchOps.Cli.Tests.Support;
using BatchOps.Engine.Tests.Support;

namespace BatchOps.Cli.Tests;

public class SpecValidationTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string Store => Path.Combine(_folder.Path, "store");

    public static TheoryData<string, string> BadSpecs => new()
    {
        { """{ "name": "x", "items": [1], "operation": { "kind": "exec", "command": "true" }, "retries": 3 }""", "unknown field \"retries\"" },
        { """{ "name": "x", "items": [1], "operation": { "kind": "exec", "command": "true" }, "settings": { "throttle": 3 } }""", "unknown field \"throttle\" at $.settings.throttle. Valid settings: chunkSize" },
        { """{ "name": "x", "items": [1], "operation": { "kind": "exec", "command": "true", "shell": "bash" } }""", "unknown field \"shell\" at $.operation.shell. Valid operation fields" },
        { """{ "name": "x", "items": [{ "host": "a" }, { "hots": "b" }], "operation": { "kind": "exec", "command": "echo", "args": ["{host}"] } }""", "Item 1 has no field 'host', which" },
        { """{ "name": "x", "items": [{ "a": { "b": 1 } }], "operation": { "kind": "exec", "command": "echo", "args": ["{a.c}"] } }""", "Item 0 has no field 'a.c'" },
        { """{ "name": "x", "items": [1], "operation": { "kind": "exec", "command": "true" }, "settings": { "throttleLimit": 0 } }""", "setting \"throttleLimit\" is out of range: use 1 to 1024." },
        { """{ "name": "x", "items": [1], "operation": { "kind": "exec", "command": "true" }, "settings": { "timeoutSeconds": 0 } }""", "setting \"timeoutSeconds\" is out of range" },
        { """{ "name": "x", "items": [1], "operation": { "kind": "exec", "command": "true" }, "settings": { "rateLimit": -1 } }""", "setting \"rateLimit\" is out of range" },
        { """{ "name": "x", "items": [1], "operation": { "kind": "exec", "command": "true" }, "settings": { "retryCount": -2 } }""", "setting \"retryCount\" is out of range" },
        { """{ "items": [1], "operation": { "kind": "exec", "command": "true" } }""", "\"name\" is required" },
        { """{ "name": "x", "operation": { "kind": "exec", "command": "true" } }""", "\"items\" (a JSON array) or \"itemsFile\"" },
        { """{ "name": "x", "items": [1], "itemsFile": "a.jsonl", "operation": { "kind": "exec", "command": "true" } }""", "not both" },
        { """{ "name": "x", "items": [1], "operation": { "kind": "ftp" } }""", "unknown kind \"ftp\"" },
        { """{ "name": "x", "items": [1], "operation": { "kind": "exec", "command": "true", "url": "http://127.0.0.1/" } }""", "\"url\" belongs to kind \"http\"" },
        { """{ "name": "x", "items": [1], "operation": { "kind": "http", "url": "not a url" } }""", "is not an absolute URL" },
        { """{ "name": "x", "items": [1], "operation": { "kind": "exec", "command": "echo", "args": ["{oops"] } }""", "is not closed" },
        { """{ "name": "x", "items": [1], "itemsFile": null, "operation": { "kind": "exec", "command": "true" } } trailing""", "job.json" },
        { """{ "name": "x", "key": "{h}", "items": [{ "h": "a" }, { "h": "b" }, { "h": "a" }], "operation": { "kind": "exec", "command": "true" } }""", "items 0 and 2 have the same key 'a'" },
        { """{ "name": "x", "key": "{jobId}-{h}", "items": [{ "h": "a" }], "operation": { "kind": "exec", "command": "true" } }""", "\"key\" cannot use {jobId} or {idempotencyKey}" },
        { """{ "name": "x", "items": [1], "operation": { "kind": "http", "url": "http://127.0.0.1:1/", "idempotencyHeader": "Bad Header" } }""", "\"idempotencyHeader\" \"Bad Header\" is not a header name" },
    };

    [Theory]
    [MemberData(nameof(BadSpecs))]
    public async Task Run_BadSpec_ExitsTwoNamingTheFieldAndRunsNothing(string json, string expected)
    {
        var spec = SpecFiles.WriteRaw(_folder.Path, json);

        var result = await CliHarness.RunAsync(Store, "run", spec);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(expected, result.Error, StringComparison.Ordinal);
        Assert.Contains("(no jobs)", (await CliHarness.RunAsync(Store, "list")).Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_ItemsFileWithBadLine_NamesFileAndLine()
    {
        File.WriteAllText(Path.Combine(_folder.Path, "items.jsonl"), "{\"n\":1}\n\n{\"n\":\n");
        var spec = SpecFiles.WriteRaw(_folder.Path, """{ "name": "x", "itemsFile": "items.jsonl", "operation": { "kind": "exec", "command": "true" } }""");

        var result = await CliHarness.RunAsync(Store, "run", spec);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("items.jsonl, line 3: not a JSON value", result.Error, StringComparison.Ordinal);
    }

    private const string ProductSchema = """
        { "type": "object", "required": ["sku", "price"], "additionalProperties": false,
          "properties": { "sku": { "type": "string", "pattern": "^SKU-" }, "price": { "type": "number", "minimum": 0.01 },
                          "tags": { "type": "array", "items": { "type": "string" } } } }
        """;

    [Fact]
    public async Task Run_ItemsAgainstAnInlineSchema_ListsEachViolationWithItsPointer_AndCreatesNothing()
    {
        var spec = SpecFiles.WriteRaw(_folder.Path, $$"""
            { "name": "x", "itemSchema": {{ProductSchema}},
              "items": [ { "sku": "SKU-1", "price": 2 }, { "sku": "SKU-2", "price": 0 }, { "price": 1 }, { "sku": "bad", "price": "x", "tags": ["a", 3], "colour": "red" } ],
              "operation": { "kind": "exec", "command": "true" } }
            """);

        var result = await CliHarness.RunAsync(Store, "run", spec);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("3 item(s) do not match \"itemSchema\"; nothing was created", result.Error, StringComparison.Ordinal);
        foreach (var expected in new[]
        {
            "item 1: /price: must be >= 0.01", "item 2: /sku: is required", "item 3: /sku: must match the pattern ^SKU-",
            "item 3: /price: must be a number", "item 3: /tags/1: must be a string", "item 3: /colour: is not allowed",
        })
        {
            Assert.Contains(expected, result.Error, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("item 0:", result.Error, StringComparison.Ordinal);
        Assert.Contains("(no jobs)", (await CliHarness.RunAsync(Store, "list")).Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_ItemsFileAgainstASchemaFile_ListsTheFirstTwentyViolations()
    {
        File.WriteAllText(Path.Combine(_folder.Path, "product.schema.json"), ProductSchema);
        File.WriteAllLines(Path.Combine(_folder.Path, "items.jsonl"), Enumerable.Range(0, 100).Select(i => i % 3 == 0 ? $$"""{ "sku": "SKU-{{i}}", "price": -1 }""" : $$"""{ "sku": "SKU-{{i}}", "price": 5 }"""));
        var spec = SpecFiles.WriteRaw(_folder.Path, """{ "name": "x", "itemsFile": "items.jsonl", "itemSchema": "product.schema.json", "operation": { "kind": "exec", "command": "true" } }""");

        var result = await CliHarness.RunAsync(Store, "run", spec);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("34 item(s) do not match", result.Error, StringComparison.Ordinal);
        Assert.Contains("item 57: /price: must be >= 0.01", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("item 60:", result.Error, StringComparison.Ordinal);
        Assert.Contains("(the first 20 of 34 violations are listed)", result.Error, StringComparison.Ordinal);
        Assert.Contains("(no jobs)", (await CliHarness.RunAsync(Store, "list")).Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_ItemsThatMatchTheSchema_Run()
    {
        var spec = SpecFiles.WriteRaw(_folder.Path, $$"""
            { "name": "checked", "itemSchema": {{ProductSchema}}, "items": [ { "sku": "SKU-1", "price": 2 }, { "sku": "SKU-2", "price": 0.01, "tags": ["new"] } ],
              "operation": { "kind": "exec", "command": "true" } }
            """);

        var result = await CliHarness.RunAsync(Store, "run", spec);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("checked", (await CliHarness.RunAsync(Store, "list")).Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"no-such.schema.json\"", "does not exist (paths are relative to the spec file)")]
    [InlineData("42", "\"itemSchema\" must be a JSON Schema object, or the path of a schema file")]
    [InlineData("{ \"type\": \"object\", \"properties\": { \"a\": { \"$ref\": \"#/definitions/missing\" } } }", "\"itemSchema\" is not a usable JSON Schema")]
    public async Task Run_AnUnusableSchema_IsNamed(string schema, string expected)
    {
        var spec = SpecFiles.WriteRaw(_folder.Path, $$"""{ "name": "x", "itemSchema": {{schema}}, "items": [1], "operation": { "kind": "exec", "command": "true" } }""");

        var result = await CliHarness.RunAsync(Store, "run", spec);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(expected, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DryRun_Exec_PrintsThePlanAndRenderedCommandLines_AndLeavesTheStoreAsItWas()
    {
        Assert.Equal(0, (await CliHarness.RunAsync(Store, "run", SpecFiles.WriteRaw(_folder.Path, """{ "name": "before", "items": [1], "operation": { "kind": "exec", "command": "true" } }"""))).ExitCode);
        var database = Path.Combine(Store, Engine.Store.StoreLocation.DatabaseFileName);
        var before = File.ReadAllBytes(database);
        var spec = SpecFiles.WriteRaw(_folder.Path, """
            { "name": "greet", "key": "{host}",
              "items": [ { "host": "web01", "note": "it's up" }, { "host": "web 02", "note": "x" }, { "host": "db01", "note": "y" }, { "host": "db02", "note": "z" } ],
              "operation": { "kind": "exec", "command": "echo", "args": ["{host}", "{note}"], "env": { "NOTE": "{note}", "API_TOKEN": "s3cret" } },
              "settings": { "chunkSize": 2, "throttleLimit": 3, "retryCount": 2, "timeoutSeconds": 30 } }
            """);

        var result = await CliHarness.RunAsync(Store, "run", spec, "--dry-run");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Dry run of 'greet' (exec): 4 item(s), every one checked; 2 chunk(s) of up to 2, 3 at a time; 2 retries, 30 s per attempt. Nothing was run or created.", result.Out, StringComparison.Ordinal);
        Assert.Contains("item 0 (web01):\n  echo web01 'it'\\''s up'\n  env NOTE=it's up\n  env API_TOKEN=***", result.Out.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("item 1 (web 02):\n  echo 'web 02' x", result.Out.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("… and 1 more item(s).", result.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", result.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("greet", (await CliHarness.RunAsync(Store, "list")).Out, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(database));
    }

    [Fact]
    public async Task DryRun_Http_RendersTheRequestWithSecretHeadersMasked_AndSendsNothing()
    {
        using var server = new LoopbackHttpServer();
        var spec = SpecFiles.WriteRaw(_folder.Path, $$"""
            { "name": "notify", "items": [ { "id": 7, "name": "a" } ],
              "operation": { "kind": "http", "method": "post", "url": "{{server.BaseUrl}}/things/{id}",
                             "headers": { "Authorization": "Bearer abc123", "X-Api-Key": "k-999", "X-Trace": "t-{id}" },
                             "body": { "name": "{name}", "id": "{id}" } } }
            """);

        var result = await CliHarness.RunAsync(Store, "run", spec, "--dry-run");

        Assert.Equal(0, result.ExitCode);
        var lines = result.Out.ReplaceLineEndings("\n");
        Assert.Contains($"item 0:\n  POST {server.BaseUrl}/things/7\n  Authorization: ***\n  X-Api-Key: ***\n  X-Trace: t-7\n  Idempotency-Key: (job id):0\n  Content-Type: application/json\n", lines, StringComparison.Ordinal);
        Assert.Contains("\"name\":\"a\"", lines, StringComparison.Ordinal);
        Assert.DoesNotContain("abc123", lines, StringComparison.Ordinal);
        Assert.DoesNotContain("k-999", lines, StringComparison.Ordinal);
        Assert.Empty(server.Hits);
    }

    [Fact]
    public async Task DryRun_BadItems_ExitTwoLikeARun()
    {
        var spec = SpecFiles.WriteRaw(_folder.Path, """{ "name": "x", "items": [{ "host": "a" }, { "hots": "b" }], "operation": { "kind": "exec", "command": "echo", "args": ["{host}"] } }""");

        var result = await CliHarness.RunAsync(Store, "run", spec, "--dry-run");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Item 1 has no field 'host'", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_MissingSpecFile_ExitsTwo()
    {
        var result = await CliHarness.RunAsync(Store, "run", Path.Combine(_folder.Path, "nope.json"));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("does not exist", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("frobnicate")]
    [InlineData("list", "--status", "Sideways")]
    [InlineData("export", "job-x")]
    [InlineData("show")]
    public async Task Usage_Errors_ExitTwo(params string[] args)
    {
        var result = await CliHarness.RunAsync(Store, args);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("batchops --help", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Show_UnknownJob_ExitsTwoWithHint()
    {
        var result = await CliHarness.RunAsync(Store, "show", "no-such-job");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("No job has the id or name 'no-such-job'", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_CorruptStoreFile_ExitsTwoAndLeavesItUntouched()
    {
        Directory.CreateDirectory(Store);
        var db = Path.Combine(Store, "batchops.db");
        File.WriteAllText(db, "this is my shopping list, not a database, please keep it safe ..........................");
        var before = File.ReadAllBytes(db);
        var spec = SpecFiles.WriteRaw(_folder.Path, """{ "name": "x", "items": [1], "operation": { "kind": "exec", "command": "true" } }""");

        var result = await CliHarness.RunAsync(Store, "run", spec);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("is not a BatchOps job store", result.Error, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(db));
    }
}
