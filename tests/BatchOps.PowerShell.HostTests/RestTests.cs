using BatchOps.PowerShell.HostTests.Support;

namespace BatchOps.PowerShell.HostTests;

/// <summary>
/// Script blocks that call a REST API with the real Invoke-RestMethod (Microsoft.PowerShell.Utility), against a
/// real HTTP server on 127.0.0.1: what the server was asked is counted on its side.
/// </summary>
public sealed class RestTests : IDisposable
{
    private readonly PsSession _session = new();

    public void Dispose() => _session.Dispose();

    private PsRun Run(LoopbackServer server, string script)
    {
        _session.Runspace.SessionStateProxy.SetVariable("api", server.Url);
        return _session.Run(script);
    }

    [Fact]
    public void InvokeRestMethod_InTheScriptBlock_ReturnsTheParsedAnswers()
    {
        using var server = new LoopbackServer((path, _) => new Reply(200, $$"""{ "id": "{{path[(path.LastIndexOf('/') + 1)..]}}", "ok": true }"""));

        var lines = Run(server, """
            $results = 1..12 | Invoke-BatchJob { Invoke-RestMethod -Method Post -Uri "$using:api/items/$_" } -ThrottleLimit 4
            ($results | Sort-Object Index | ForEach-Object { "$($_.Output.id):$($_.Output.ok)" }) -join ','
            """).ThrowIfFailed().Output.Select(o => o?.ToString());

        Assert.Equal(string.Join(',', Enumerable.Range(1, 12).Select(i => $"{i}:True")), Assert.Single(lines));
        Assert.All(Enumerable.Range(1, 12), i => Assert.Single(server.Hits($"/items/{i}")));
    }

    /// <summary>
    /// The API of the issue's run: /items/404 answers 404; /items/429 429 with Retry-After: 1 the first time;
    /// /items/500 500 the first time; /items/date 503 with Retry-After as an HTTP date 2 s ahead the first time;
    /// /items/long 429 asking for 30 s the first time; /items/busy 200 saying busy in its body the first time.
    /// </summary>
    private static LoopbackServer Api() => new((path, count) => path switch
    {
        "/items/404" => new Reply(404, """{ "error": "no such item" }"""),
        "/items/429" when count == 1 => new Reply(429, "{}", ("Retry-After", "1")),
        "/items/500" when count == 1 => new Reply(500),
        "/items/date" when count == 1 => new Reply(503, "{}", ("Retry-After", DateTimeOffset.UtcNow.AddSeconds(2).ToString("R", System.Globalization.CultureInfo.InvariantCulture))),
        "/items/long" when count == 1 => new Reply(429, "{}", ("Retry-After", "30")),
        "/items/busy" when count == 1 => new Reply(200, """{ "busy": true }"""),
        _ => new Reply(200, """{ "busy": false }"""),
    });

    private static double Gap(IReadOnlyList<DateTimeOffset> hits) => (hits[1] - hits[0]).TotalSeconds;

    private (Dictionary<string, string> Results, PsRun Run) RunItems(LoopbackServer server, string items, string parameters)
    {
        var run = Run(server, $$"""
            $results = {{items}} | Invoke-BatchJob { Invoke-RestMethod -Method Post -Uri "$using:api/items/$_" } -Name rest -ThrottleLimit 8 -RetryDelay 0.05 {{parameters}} -ErrorAction SilentlyContinue
            $results | ForEach-Object { "$($_.Input)=$($_.Status)/$($_.Attempts)/$($_.Error.Type)/$($_.Error.Message)" }
            """);
        var results = run.ThrowIfFailed().Output.Select(o => o.ToString().Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        return (results, run);
    }

    [Fact]
    public void HttpErrors_FollowTheHttpRule_A404IsAskedOnce_429And5xxAreRetriedAfterTheWaitAsked()
    {
        using var server = Api();

        var (results, _) = RunItems(server, "'404', '429', '500', 'date', 'ok'", "-RetryCount 3");

        Assert.StartsWith("Failed/1/HttpStatus/", results["404"], StringComparison.Ordinal);
        Assert.Contains("/HTTP 404 (Not Found): ", results["404"], StringComparison.Ordinal);
        Assert.Single(server.Hits("/items/404"));
        Assert.StartsWith("Succeeded/2/", results["429"], StringComparison.Ordinal);
        Assert.True(Gap(server.Hits("/items/429")) >= 0.95, $"the 429 was asked again after {Gap(server.Hits("/items/429")):0.000} s; it asked for 1 s");
        Assert.StartsWith("Succeeded/2/", results["500"], StringComparison.Ordinal);
        Assert.StartsWith("Succeeded/2/", results["date"], StringComparison.Ordinal);
        Assert.True(Gap(server.Hits("/items/date")) >= 0.9, $"the 503 with an HTTP-date Retry-After was asked again after {Gap(server.Hits("/items/date")):0.000} s");
        Assert.StartsWith("Succeeded/1/", results["ok"], StringComparison.Ordinal);
    }

    [Fact]
    public void History_ShowsEachRetriedAttempt_ItsStatusAndTheWaitHonoured()
    {
        using var server = Api();
        RunItems(server, "'429', '500'", "-RetryCount 3");

        var lines = _session.Run("""
            foreach ($i in 0, 1) {
                Get-BatchItem -Id rest -Index $i -History | Where-Object { $_ -is [BatchOps.BatchItemRetry] } |
                    ForEach-Object { "$($_.Index) $($_.Run) $($_.Attempt) $($_.StatusCode) $($_.ErrorType) $([int]$_.Delay.TotalMilliseconds)" }
            }
            (Get-BatchItem -Id rest -Index 0 -History | Format-Table | Out-String -Width 160).Split("`n") | Where-Object { $_ -like '*Retried*' }
            """).ThrowIfFailed().Output.Select(o => o.ToString()!.TrimEnd()).ToArray();

        Assert.Equal("0 1 1 429 HttpStatus 1000", lines[0]);
        Assert.Matches(@"^1 1 1 500 HttpStatus \d+$", lines[1]);
        Assert.Matches(@"^\s+0\s+Retried\s+1\s+\(run 1\) 429, waited 1,000 ms: ", lines[2]);
    }

    [Fact]
    public void ConnectionRefused_IsRetried_AndEachAttemptIsKept()
    {
        var nowhere = LoopbackServer.UnusedUrl();
        _session.Runspace.SessionStateProxy.SetVariable("api", nowhere);

        var lines = _session.Run("""
            $r = 'x' | Invoke-BatchJob { Invoke-RestMethod "$using:api/items/$_" -TimeoutSec 5 } -Name refused -RetryCount 2 -RetryDelay 0.05 -ErrorAction SilentlyContinue
            "$($r.Status) $($r.Attempts)"
            @(Get-BatchItem -Id refused -History | Where-Object { $_ -is [BatchOps.BatchItemRetry] }).Count
            """).ThrowIfFailed().Output.Select(o => o.ToString());

        Assert.Equal(["Failed 3", "2"], lines);
    }

    [Fact]
    public void RetryOn_Narrows_AndWidens_NoRetryOnWins()
    {
        using var server = Api();

        // Narrowing by type name: only timeouts are retried, so the 500 is asked once.
        var (narrow, _) = RunItems(server, "'500'", "-RetryCount 3 -RetryOn 'System.TimeoutException'");
        Assert.StartsWith("Failed/1/HttpStatus/", narrow["500"], StringComparison.Ordinal);
        Assert.Single(server.Hits("/items/500"));

        // Widening by a script block, which gets the error record: this API's 404 is eventual.
        var (wide, _) = RunItems(server, "'404'", "-RetryOn { [int]$_.Exception.Response.StatusCode -in 404, 500 } -RetryCount 2");
        Assert.StartsWith("Failed/3/HttpStatus/", wide["404"], StringComparison.Ordinal);
        Assert.Equal(3, server.Hits("/items/404").Count);

        var (never, _) = RunItems(server, "'long'", "-RetryCount 3 -NoRetryOn HttpStatus -RetryOn { $true }");
        Assert.StartsWith("Failed/1/HttpStatus/", never["long"], StringComparison.Ordinal);
    }

    [Fact]
    public void RetryOn_ThatThrows_DoesNotRetry_AndSaysWhyInTheDetail()
    {
        using var server = Api();

        var run = Run(server, """
            $r = '500' | Invoke-BatchJob { Invoke-RestMethod "$using:api/items/$_" } -Name broken-rule -RetryCount 3 -RetryOn { throw 'rule broke' } -ErrorAction SilentlyContinue
            "$($r.Status) $($r.Attempts)"
            $r.Error.Detail -match '-RetryOn failed, so the item was not retried: rule broke'
            """).ThrowIfFailed();

        Assert.Equal(["Failed 1", "True"], run.Output.Select(o => o.ToString()));
    }

    [Fact]
    public void RetryAfter_ThrownByTheScript_WaitsWhatItAsked_AndMaxRetryDelayCapsARetryAfter()
    {
        using var server = Api();

        var run = Run(server, """
            $r = 'busy', 'long' | Invoke-BatchJob {
                $answer = Invoke-RestMethod "$using:api/items/$_"
                if ($answer.busy) { throw [BatchOps.RetryAfter]::new(0.6, 'the API says busy') }
                'done'
            } -Name asked -RetryCount 2 -MaxRetryDelay 0.4 -ErrorAction SilentlyContinue
            $r | Sort-Object Index | ForEach-Object { "$($_.Status) $($_.Attempts) $($_.Output)" }
            Get-BatchItem -Id asked -Index 0 -History | Where-Object { $_ -is [BatchOps.BatchItemRetry] } | ForEach-Object { "$($_.ErrorType) $($_.Message) $([int]$_.Delay.TotalMilliseconds)" }
            (Get-BatchJob -Name asked).Settings.MaxRetryDelay.TotalMilliseconds
            """).ThrowIfFailed();

        Assert.Equal(["Succeeded 2 done", "Succeeded 2 done", "RetryAfter the API says busy 400", "400"], run.Output.Select(o => o.ToString()));
        Assert.InRange(Gap(server.Hits("/items/busy")), 0.35, 5);
        Assert.InRange(Gap(server.Hits("/items/long")), 0.35, 5);
    }
}
