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
}
