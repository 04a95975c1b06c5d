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
    public async Task Http_RetrySettings_AreTheCmdletsOnes_NoRetryOnAndMaxRetryDelay()
    {
        // The same names and meaning as -NoRetryOn and -MaxRetryDelay: a 500 named HttpStatus is not retried.
        var (never, neverItems) = await RunAsync("flaky", new { retryCount = 3, retryDelayMs = 50, noRetryOn = new[] { "HttpStatus" } });
        Assert.Equal(1, never.ExitCode);
        Assert.Equal(1, _server.Hits["/flaky/1"]);
        Assert.Equal("HttpStatus", neverItems[1].GetProperty("error").GetProperty("type").GetString());

        // A Retry-After of 1 s is cut to maxRetryDelayMs.
        using var store = Engine.Store.SqliteJobStore.Open(Store);
        var (capped, _) = await RunAsync("limited", new { retryCount = 2, maxRetryDelayMs = 200, throttleLimit = 4 });
        Assert.True(capped.ExitCode == 0, capped.ToString());
        var times = _server.Times["/limited/2"];
        Assert.True(times[1] - times[0] < TimeSpan.FromSeconds(0.9), $"Retried after {times[1] - times[0]}; maxRetryDelayMs was 200.");
        var job = (await store.FindJobsAsync(new Engine.Store.JobQuery { Name = "http" })).OrderBy(j => j.CreatedAt).Last();
        var retry = Assert.Single(await store.GetItemRetriesAsync(job.Id, 2));
        Assert.Equal((429, TimeSpan.FromMilliseconds(200)), (retry.StatusCode, retry.Delay));
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
    public async Task Http_IdempotencyKey_IsOnePerItem_AcrossRetriesAndRetryFailed()
    {
        var (flakyRun, _) = await RunAsync("flaky");
        Assert.True(flakyRun.ExitCode == 0, flakyRun.ToString());
        var job = JobIdOf("http");

        // Every attempt of an item carried the same key, and no two items shared one.
        var keys = Enumerable.Range(0, 4).Select(i => _server.IdempotencyKeys[$"/flaky/{i}"].ToArray()).ToList();
        Assert.All(keys, attempts => Assert.Equal(2, attempts.Length));
        Assert.All(keys, attempts => Assert.Single(attempts.Distinct()));
        Assert.Equal(Enumerable.Range(0, 4).Select(i => $"{job}:{i}"), keys.Select(k => k[0]));

        // A failed item retried later (retry-failed, a new process) sends its key again.
        var spec = SpecFiles.Write(_folder.Path, new { name = "gone", items = new[] { new { id = 5 } }, operation = new { kind = "http", url = $"{_server.BaseUrl}/missing/{{id}}" } });
        Assert.Equal(1, (await CliHarness.RunAsync(Store, "run", spec)).ExitCode);
        Assert.Equal(1, (await CliHarness.RunAsync(Store, "retry", "gone")).ExitCode);
        var sent = _server.IdempotencyKeys["/missing/5"].ToArray();
        Assert.Equal(new[] { $"{JobIdOf("gone")}:0", $"{JobIdOf("gone")}:0" }, sent.Select(k => k ?? "(none)"));
    }

    [Fact]
    public async Task Http_IdempotencyKey_SurvivesASigkillAndResume()
    {
        var spec = SpecFiles.Write(_folder.Path, new
        {
            name = "killed",
            key = "{host}",
            items = new[] { new { host = "a", path = "ok" }, new { host = "b", path = "slow" } },
            operation = new { kind = "http", url = $"{_server.BaseUrl}/{{path}}/{{host}}" },
            settings = new { throttleLimit = 2, timeoutSeconds = 60 },
        });
        using (var run = CliHarness.Start(Store, "run", spec))
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (!_server.Hits.ContainsKey("/slow/b"))
            {
                Assert.True(DateTime.UtcNow < deadline, "the slow request never arrived");
                await Task.Delay(50);
            }

            run.Kill();
            await run.WaitForExitAsync();
        }

        var resumed = await CliHarness.RunAsync(Store, "resume", "killed");

        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        var job = JobIdOf("killed");
        Assert.Equal(new[] { $"{job}:key:b", $"{job}:key:b" }, _server.IdempotencyKeys["/slow/b"].Select(k => k ?? "(none)"));
        Assert.All(_server.IdempotencyKeys["/ok/a"], key => Assert.Equal($"{job}:key:a", key));
    }

    [Theory]
    [InlineData("\"idempotencyHeader\": \"X-Request-Id\"", "X-Request-Id: (job id):0")]
    [InlineData("\"idempotencyHeader\": \"\"", null)]
    [InlineData("\"headers\": { \"Idempotency-Key\": \"mine-{id}\" }", "Idempotency-Key: mine-1")]
    public async Task Http_IdempotencyHeader_CanBeRenamedTurnedOffOrSetByTheSpec(string field, string? expected)
    {
        var spec = SpecFiles.WriteRaw(_folder.Path, $$"""{ "name": "h", "items": [{ "id": 1 }], "operation": { "kind": "http", "url": "{{_server.BaseUrl}}/ok/{id}", {{field}} } }""");

        var dry = await CliHarness.RunAsync(Store, "run", spec, "--dry-run");

        Assert.True(dry.ExitCode == 0, dry.ToString());
        var headers = dry.Out.Split('\n').Where(l => l.Contains(": ", StringComparison.Ordinal) && l.StartsWith("  ", StringComparison.Ordinal)).Select(l => l.Trim()).ToList();
        Assert.Equal(expected is null ? [] : [expected], headers);
    }

    private string JobIdOf(string name)
    {
        using var store = Engine.Store.SqliteJobStore.Open(Store);
        return store.FindJobsAsync(new Engine.Store.JobQuery { Name = name }).GetAwaiter().GetResult().Single().Id;
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
