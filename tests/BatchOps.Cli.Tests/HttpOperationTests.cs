using System.Text.Json;
using BatchOps.Cli.Tests.Support;
using BatchOps.Engine.Tests.Support;

namespace BatchOps.Cli.Tests;

public class HttpOperationTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly LoopbackHttpServer _server = new();

    public void Dispose()
    {
        _server.Dispose();
        _folder.Dispose();
    }

    private string Store => Path.Combine(_folder.Path, "store");

    private async Task<(CliHarness.Result Run, JsonElement Items)> RunAsync(string path, object? settings = null, string method = "GET", object? body = null)
    {
        var spec = SpecFiles.Write(_folder.Path, new
        {
            name = "http",
            items = Enumerable.Range(0, 4).Select(i => new { id = i, name = $"n\"{i}" }).ToArray(),
            operation = new { kind = "http", method, url = $"{_server.BaseUrl}/{path}/{{id}}", headers = new Dictionary<string, string> { ["X-Item"] = "{index}" }, body },
            settings = settings ?? new { retryCount = 2, retryDelayMs = 50, throttleLimit = 4 },
        });
        var run = await CliHarness.RunAsync(Store, "run", spec);
        var show = await CliHarness.RunAsync(Store, "show", "http", "--items", "--json");
        using var document = JsonDocument.Parse(show.Out);
        return (run, document.RootElement.GetProperty("items").Clone());
    }

    [Fact]
    public async Task Http_Success_StoresResponseBodies()
    {
        var (run, items) = await RunAsync("ok");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("ok 3", items[3].GetProperty("output").GetString());
    }

    [Fact]
    public async Task Http_429WithRetryAfter_WaitsTheHintThenSucceeds()
    {
        var (run, items) = await RunAsync("limited");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.All(items.EnumerateArray(), i => Assert.Equal(2, i.GetProperty("attempts").GetInt32()));
        var times = _server.Times["/limited/2"];
        Assert.True(times[1] - times[0] >= TimeSpan.FromSeconds(0.95), $"Retried after {times[1] - times[0]}, before Retry-After: 1.");
    }

    [Fact]
    public async Task Http_500_IsRetried()
    {
        var (run, items) = await RunAsync("flaky");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(2, _server.Hits["/flaky/1"]);
        Assert.Equal(2, items[1].GetProperty("attempts").GetInt32());
    }

    [Fact]
    public async Task Http_404_FailsWithoutRetryAndKeepsTheBody()
    {
        var (run, items) = await RunAsync("missing");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal(1, _server.Hits["/missing/0"]);
        var error = items[0].GetProperty("error");
        Assert.Contains("answered 404", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.False(error.GetProperty("isRetryable").GetBoolean());
        Assert.Equal("no 0", error.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Http_SlowReply_IsCutByTheTimeout()
    {
        var (run, items) = await RunAsync("slow", new { timeoutSeconds = 0.5, retryCount = 0, throttleLimit = 4 });

        Assert.Equal(1, run.ExitCode);
        Assert.All(items.EnumerateArray(), i => Assert.Contains("Timeout", i.GetProperty("error").GetProperty("type").GetString(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task Http_JsonBody_FillsPlaceholdersWithJsonEscaping()
    {
        var (run, _) = await RunAsync("ok", method: "POST", body: new { who = "{name}", n = "{id}" });

        Assert.True(run.ExitCode == 0, run.ToString());
        var bodies = _server.Bodies.Select(b => JsonDocument.Parse(b).RootElement.GetProperty("who").GetString()!).Order().ToArray();
        Assert.Equal(["n\"0", "n\"1", "n\"2", "n\"3"], bodies);
    }
}
