using BatchOps.PowerShell.HostTests.Support;

namespace BatchOps.PowerShell.HostTests;

/// <summary>-ItemSchema and -InvalidItems on the script-block cmdlets: piped objects checked as a spec's items are.</summary>
public sealed class ItemSchemaTests : IDisposable
{
    private const string Products = """
        $products = 1..5 | ForEach-Object { [pscustomobject]@{ sku = "s$_"; price = $(if ($_ -eq 3) { 0 } else { 1.5 }) } }
        $products += [pscustomobject]@{ price = 2 }
        $schema = @{ type = 'object'; required = @('sku', 'price'); properties = @{ sku = @{ type = 'string' }; price = @{ type = 'number'; minimum = 0.01 } } }
        """ + "\n";

    private readonly PsSession _session = new();

    public void Dispose() => _session.Dispose();

    [Fact]
    public void Reject_CreatesNothing_AndListsEveryViolationWithTheSpecsWording()
    {
        var run = _session.Run(Products + """
            $ran = [Collections.Generic.List[object]]::new()
            $products | Invoke-BatchJob { $ran.Add($_) } -ItemSchema $schema -Name checked -UseCallerRunspace
            @(Get-BatchJob -Name checked).Count
            $ran.Count
            """);

        var rejected = Assert.Single(run.Errors);
        Assert.Equal("BatchOps.ItemsRejected,BatchOps.PowerShell.Commands.InvokeBatchJobCommand", rejected.FullyQualifiedErrorId);
        var message = rejected.Exception.Message;
        Assert.Contains("2 item(s) do not match", message, StringComparison.Ordinal);
        Assert.Contains("item 2: /price: must be >= 0.01", message, StringComparison.Ordinal);
        Assert.Contains("item 5: /sku: is required", message, StringComparison.Ordinal);
        Assert.Equal(["0", "0"], run.Output.Select(o => o.ToString()));
    }

    [Fact]
    public void Fail_RecordsTheMissesFailedWithoutRunningThem_AndRunsTheRest()
    {
        var lines = _session.Run(Products + """
            $results = $products | Invoke-BatchJob { "ok $($_.sku)" } -ItemSchema $schema -InvalidItems Fail -Name partly -ErrorVariable bad -ErrorAction SilentlyContinue
            ($results | Sort-Object Index).Output -join ','
            ($bad | Where-Object FullyQualifiedErrorId -like 'BatchOps.InvalidItem,*' | ForEach-Object { $_.Exception.Message }) -join ' | '
            $item = Get-BatchItem -Id partly -Index 2
            "$($item.Status) $($item.Attempts) $($item.Error.Type) $($item.Error.IsRetryable)"
            $job = Get-BatchJob -Name partly
            "$($job.Status) $($job.Succeeded) $($job.Failed)"
            @(Restart-BatchFailed -Id partly -Confirm:$false -ErrorAction SilentlyContinue).Count
            """).ThrowIfFailed().Output.Select(o => o.ToString()).ToArray();

        Assert.Equal("ok s1,ok s2,ok s4,ok s5", lines[0]);
        Assert.Equal("item 2: /price: must be >= 0.01 | item 5: /sku: is required", lines[1]);
        Assert.Equal("Failed 0 ValidationError False", lines[2]);
        Assert.Equal("CompletedWithErrors 4 2", lines[3]);
        Assert.Equal("0", lines[4]);
    }

    [Fact]
    public void Schema_AsAJsonStringOrAFile_AndABadSchemaIsNamed()
    {
        var lines = _session.Run("""
            Set-Location $Store
            '{ "type": "integer", "maximum": 10 }' | Set-Content -Path limits.json
            (1, 2, 30 | New-BatchJob { $_ } -Name from-file -ItemSchema limits.json -InvalidItems Fail -ErrorAction SilentlyContinue).Failed
            (7, 'x' | New-BatchJob { $_ } -Name from-text -ItemSchema '{ "type": "integer" }' -InvalidItems Fail -ErrorAction SilentlyContinue).Failed
            """).ThrowIfFailed().Output.Select(o => o.ToString());
        Assert.Equal(["1", "1"], lines);

        var bad = _session.Run("""
            1 | New-BatchJob { $_ } -ItemSchema '{ not json' -Name never
            1 | New-BatchJob { $_ } -ItemSchema nowhere.json -Name never
            @(Get-BatchJob -Name never).Count
            """);
        Assert.Equal(2, bad.Errors.Count);
        Assert.All(bad.Errors, e => Assert.Equal("BatchOps.InvalidItemSchema,BatchOps.PowerShell.Commands.NewBatchJobCommand", e.FullyQualifiedErrorId));
        Assert.Contains("not valid JSON", bad.Errors[0].Exception.Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", bad.Errors[1].Exception.Message, StringComparison.Ordinal);
        Assert.Equal("0", bad.Output.Single().ToString());
    }

    [Fact]
    public void TheModulesNewtonsoftJson_LivesBesideAnotherLoadedFirst()
    {
        // PowerShell's own Newtonsoft.Json is loaded first (as another module's would be); the module's schema
        // checker brings its own copy into its private load context, and both keep working.
        var lines = _session.Run("""
            [Newtonsoft.Json.JsonConvert]::SerializeObject(@{ a = 1 })
            (1, -1 | New-BatchJob { $_ } -Name two-json -ItemSchema @{ type = 'integer'; minimum = 0 } -InvalidItems Fail -ErrorAction SilentlyContinue).Failed
            $loaded = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'Newtonsoft.Json' }
            ($loaded | ForEach-Object { [Runtime.Loader.AssemblyLoadContext]::GetLoadContext($_).Name } | Sort-Object) -join ','
            [Newtonsoft.Json.JsonConvert]::SerializeObject(@{ b = 2 })
            """).ThrowIfFailed().Output.Select(o => o.ToString());

        Assert.Equal(["""{"a":1}""", "1", "BatchOps,Default", """{"b":2}"""], lines);
    }
}
