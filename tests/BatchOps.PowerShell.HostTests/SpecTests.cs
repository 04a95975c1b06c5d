using BatchOps.PowerShell.HostTests.Support;

namespace BatchOps.PowerShell.HostTests;

/// <summary>
/// PowerShell runs specs: Invoke-BatchJob and New-BatchJob with -SpecPath or -Spec, through the operations library
/// batchops uses, with the module's results, error records and -WhatIf.
/// </summary>
public sealed class SpecTests : IDisposable
{
    private readonly PsSession _session = new();
    private readonly string _folder = Directory.CreateTempSubdirectory("batchops-spec-").FullName;

    public void Dispose()
    {
        _session.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    private string Write(string name, string json)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void InvokeBatchJob_SpecPath_RunsAnExecSpec_WithResultsAndErrorRecords()
    {
        var spec = Write("hosts.json", """
            { "name": "hosts", "key": "{host}",
              "items": [ { "host": "web01", "port": 80 }, { "host": "web02", "port": 9443 }, { "host": "db01", "port": 5432 } ],
              "operation": { "kind": "exec", "command": "sh", "args": ["-c", "test $1 -lt 9000 || (echo refused >&2; exit 3) && echo checked $0:$1", "{host}", "{port}"] },
              "settings": { "throttleLimit": 2 } }
            """);
        _session.Runspace.SessionStateProxy.SetVariable("spec", spec);

        var run = _session.Run("""
            $results = Invoke-BatchJob -SpecPath $spec -ErrorVariable failed -ErrorAction SilentlyContinue
            $results | Sort-Object Index | ForEach-Object { "$($_.Key) $($_.Status) $("$($_.Output)".Trim())" }
            $failed.Count
            $failed[0].FullyQualifiedErrorId
            $job = Get-BatchJob -Name hosts
            "$($job.Status) $($job.OperationKind)"
            (Invoke-BatchJob -Id hosts).Count
            """).ThrowIfFailed();

        Assert.Equal(
            ["web01 Succeeded checked web01:80", "web02 Failed ", "db01 Succeeded checked db01:5432", "1", "BatchOps.ItemFailed,BatchOps.PowerShell.Commands.InvokeBatchJobCommand", "CompletedWithErrors exec", "0"],
            run.Output.Select(o => o.ToString()));
    }

    [Fact]
    public void InvokeBatchJob_Spec_AsAHashtable_RunsAnHttpSpecAgainstTheLoopbackServer()
    {
        using var api = new LoopbackServer((path, count) => path == "/items/2" && count == 1 ? new Reply(503, "{}", ("Retry-After", "0")) : new Reply(200, $"ok {path}"));
        _session.Runspace.SessionStateProxy.SetVariable("api", api.Url);

        var run = _session.Run("""
            $spec = @{ name = 'calls'; items = @(@{ n = 1 }, @{ n = 2 }); operation = @{ kind = 'http'; method = 'POST'; url = "$api/items/{n}" }; settings = @{ retryCount = 2; retryDelayMs = 10 } }
            (Invoke-BatchJob -Spec $spec | Sort-Object Index | ForEach-Object { "$($_.Output) $($_.Attempts)" }) -join ','
            (Get-BatchItem -Id calls -Index 1 -History | Where-Object { $_ -is [BatchOps.BatchItemRetry] }).StatusCode
            """).ThrowIfFailed();

        Assert.Equal(["ok /items/1 1,ok /items/2 2", "503"], run.Output.Select(o => o.ToString()));
        Assert.Equal(2, api.Hits("/items/2").Count);
    }

    /// <summary>A spec whose first stage runs a process per item and whose second is a PowerShell script block.</summary>
    internal static string MixedSpec(string name, string ran, int count) => $$"""
        { "name": "{{name}}",
          "stages": [
            { "name": "create", "items": [ {{string.Join(", ", Enumerable.Range(1, count).Select(n => $"{{ \"n\": {n} }}"))}} ],
              "operation": { "kind": "exec", "command": "sh", "args": ["-c", "printf x >> '{{ran}}/create-'$0; echo made $0", "{n}"] },
              "settings": { "chunkSize": 5 } },
            { "name": "verify", "dependsOn": ["create"], "items": [ {{string.Join(", ", Enumerable.Range(1, count).Select(n => $"{{ \"n\": {n}, \"tags\": [\"a\", \"b\"] }}"))}} ],
              "operation": { "kind": "scriptblock",
                "script": "[IO.File]::AppendAllText('{{ran}}/verify-' + $_.n, 'x'); \"checked $($_.GetType().Name) $($_.n) $($_.tags -join '+') $($BatchContext.Stage)\"" },
              "settings": { "chunkSize": 5 } }
          ] }
        """;

    [Fact]
    public void InvokeBatchJob_SpecPath_RunsAStagedSpecThatMixesExecAndAScriptBlock_WithTheItemAsConvertFromJsonGivesIt()
    {
        var ran = Directory.CreateDirectory(Path.Combine(_folder, "ran")).FullName;
        _session.Runspace.SessionStateProxy.SetVariable("spec", Write("mixed.json", MixedSpec("mixed", ran, 3)));

        var run = _session.Run("""
            $results = Invoke-BatchJob -SpecPath $spec
            $results | Sort-Object Index | ForEach-Object { "$($_.Stage): $("$($_.Output)".Trim())" }
            (Get-BatchJob -Name mixed).Status.ToString()
            """).ThrowIfFailed();

        Assert.Equal(
            ["create: made 1", "create: made 2", "create: made 3", "verify: checked PSCustomObject 1 a+b verify", "verify: checked PSCustomObject 2 a+b verify", "verify: checked PSCustomObject 3 a+b verify", "Completed"],
            run.Output.Select(o => o.ToString()));
        Assert.All(Directory.GetFiles(ran), f => Assert.Equal(1, new FileInfo(f).Length));
        Assert.Equal(6, Directory.GetFiles(ran).Length);
    }

    [Fact]
    public void WhatIf_ShowsThePlanAndTheRenderedCommands_AndCreatesNothing()
    {
        var spec = Write("dry.json", """
            { "name": "dry", "items": [ { "host": "web01" }, { "host": "web02" } ],
              "operation": { "kind": "exec", "command": "ping", "args": ["-c", "1", "{host}"] } }
            """);
        var host = new RecordingHost();
        using var session = new PsSession(_session.Store, host: host);
        session.Runspace.SessionStateProxy.SetVariable("spec", spec);

        var run = session.Run("Invoke-BatchJob -SpecPath $spec -WhatIf; @(Get-BatchJob -Name dry).Count").ThrowIfFailed();

        Assert.Equal("0", run.Output.Single().ToString());
        // The same lines batchops run --dry-run prints (one implementation in the operations library).
        var whatIf = host.Lines.Where(l => l.StartsWith("What if: ", StringComparison.Ordinal)).Select(l => l["What if: ".Length..]).ToArray();
        Assert.True(whatIf.Length == 5, string.Join("\n", host.Lines));
        Assert.StartsWith("Dry run of 'dry' (exec): 2 item(s), every one checked;", whatIf[0], StringComparison.Ordinal);
        Assert.Equal(["item 0:", "  ping -c 1 web01", "item 1:", "  ping -c 1 web02"], whatIf[1..]);
    }

    [Fact]
    public void WhatIf_OfASqlSpec_RunsEachChunkAgainstTheTableInATransactionRolledBack_AndSaysWhatItWouldDo()
    {
        var database = Path.Combine(_folder, "shop.db");
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={database};Pooling=False"))
        {
            connection.Open();
            using var create = connection.CreateCommand();
            create.CommandText = "CREATE TABLE products (sku TEXT PRIMARY KEY, name TEXT, price REAL); INSERT INTO products VALUES ('S1', 'one', 1.5)";
            create.ExecuteNonQuery();
        }

        var spec = Write("preview.json", """
            { "name": "preview",
              "items": [ { "sku": "S0", "name": "a" }, { "sku": "S1", "name": "b" }, { "sku": "S2", "name": "c", "price": "x" }, { "sku": "S3", "name": "d" } ],
              "operation": { "kind": "sql", "provider": "sqlite", "connection": "shop.db", "table": "products", "mode": "upsert", "key": ["sku"] },
              "settings": { "chunkSize": 2, "throttleLimit": 1 } }
            """);
        var host = new RecordingHost();
        using var session = new PsSession(_session.Store, host: host);
        session.Runspace.SessionStateProxy.SetVariable("spec", spec);

        var run = session.Run("Invoke-BatchJob -SpecPath $spec -WhatIf; @(Get-BatchJob -Name preview).Count").ThrowIfFailed();

        Assert.Equal("0", run.Output.Single().ToString());
        // What batchops run --dry-run prints (one implementation in the operations library), as What if lines.
        var whatIf = host.Lines.Where(l => l.StartsWith("What if: ", StringComparison.Ordinal)).Select(l => l["What if: ".Length..]).ToList();
        Assert.True(whatIf.Count == 5, string.Join("\n", host.Lines));
        Assert.Equal("Dry run of 'preview': upsert into sqlite table products by key (sku), 4 row(s); nothing is changed.", whatIf[0]);
        Assert.Contains("  rows 0-1: 1 would insert, 1 would update", whatIf);
        Assert.Contains("  rows 2-3: 1 would insert, 1 would fail", whatIf);
        Assert.Contains(whatIf, l => l.StartsWith("  would fail: row 2: column price:", StringComparison.Ordinal));
        Assert.Equal("Would do: 2 would insert, 1 would update, 1 would fail.", whatIf[^1]);
        using var check = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={database};Pooling=False");
        check.Open();
        using var read = check.CreateCommand();
        read.CommandText = "SELECT group_concat(sku || '=' || name) FROM products";
        Assert.Equal("S1=one", read.ExecuteScalar());
    }

    [Fact]
    public void ABadSpec_EndsTheCommandNamingTheField_AndNewBatchJobCreatesAndQueuesNothing()
    {
        var bad = Write("bad.json", """{ "name": "bad", "items": [1], "operation": { "kind": "exec" } }""");
        _session.Runspace.SessionStateProxy.SetVariable("bad", bad);

        var run = _session.Run("""
            Invoke-BatchJob -SpecPath $bad
            New-BatchJob -SpecPath (Join-Path $Store 'nowhere.json')
            $created = New-BatchJob -Spec @{ name = 'later'; items = @(1, 2); operation = @{ kind = 'exec'; command = 'true' } }
            "$($created.Status) $($created.Total)"
            @(Get-BatchJob -Name bad).Count
            """);

        Assert.Equal(2, run.Errors.Count);
        Assert.All(run.Errors, e => Assert.StartsWith("BatchOps.InvalidSpec,", e.FullyQualifiedErrorId, StringComparison.Ordinal));
        Assert.Contains("command", run.Errors[0].Exception.Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", run.Errors[1].Exception.Message, StringComparison.Ordinal);
        Assert.Equal(["Pending 2", "0"], run.Output.Select(o => o.ToString()));
    }
}
