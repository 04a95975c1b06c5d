using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using BatchOps.Cli.Serve;
using BatchOps.Cli.Tests.Support;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using BatchOps.Engine.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;

namespace BatchOps.Cli.Tests.Serve;

/// <summary>
/// The REST API of <c>batchops serve</c> on a real Kestrel on a loopback port, over a store with real jobs:
/// routes, filters, paging, problem+json errors and the request guard; and the real process once.
/// </summary>
public sealed class ServeApiTests : IAsyncLifetime
{
    private readonly TempFolder _folder = new();
    private readonly List<WebApplication> _servers = [];
    private SqliteJobStore _store = null!;
    private JobRecord _mixed = null!;
    private JobRecord _clean = null!;

    private string StoreFolder => Path.Combine(_folder.Path, "store");

    public async Task InitializeAsync()
    {
        _store = SqliteJobStore.Open(StoreFolder);
        var runner = new JobRunner(_store);
        _clean = await RunJobAsync(runner, "nightly", ["ops"], 30, _ => null);
        _mixed = await RunJobAsync(runner, "import", ["ops", "db"], 120, n => n % 40 == 7 ? $"row {n} is bad" : null);
    }

    public async Task DisposeAsync()
    {
        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }

        _store.Dispose();
        SqliteConnection.ClearAllPools();
        _folder.Dispose();
    }

    private static async Task<JobRecord> RunJobAsync(JobRunner runner, string name, string[] tags, int count, Func<int, string?> failure, string padding = "")
    {
        var job = await runner.CreateAsync(
            new JobDefinition { Name = name, Tags = tags, OperationKind = "test", Operation = "{}", Settings = new JobSettings { ChunkSize = 25, ThrottleLimit = 2 } },
            Enumerable.Range(0, count).Select(i => (string?)(i.ToString(System.Globalization.CultureInfo.InvariantCulture) + padding)), TextPayloadCodec.Instance, TextPayloadCodec.Instance.Format);
        var result = await runner.RunAsync(job.Id, new JobRunRequest<string?, string?>
        {
            Operation = BatchOperation<string?, string?>.PerItem((item, _) =>
                failure(int.Parse(item.Value!.TrimEnd('.'), System.Globalization.CultureInfo.InvariantCulture)) is { } message
                    ? throw new InvalidOperationException(message)
                    : ValueTask.FromResult<string?>($"done {item.Value}")),
            InputCodec = TextPayloadCodec.Instance,
            OutputCodec = TextPayloadCodec.Instance,
        });
        return result.Job;
    }

    private async Task<HttpClient> ServeAsync(string? token = null, bool readOnly = false)
    {
        var app = DashboardApi.Build(_store, new ServeOptions("http://127.0.0.1:0", token, readOnly));
        _servers.Add(app);
        await app.StartAsync(CancellationToken.None);
        return new HttpClient { BaseAddress = new Uri(app.Urls.First()), Timeout = TimeSpan.FromSeconds(30) };
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var body = await response.Content.ReadAsStringAsync(CancellationToken.None);
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode}: {body}");
        using var document = JsonDocument.Parse(body);
        return document.RootElement.Clone();
    }

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await JsonAsync(response, expected);
        Assert.Equal((int)expected, problem.GetProperty("status").GetInt32());
        return problem;
    }

    [Fact]
    public async Task Jobs_AreListedNewestFirst_WithTheTotal_FiltersAndPages()
    {
        using var client = await ServeAsync();
        var ct = CancellationToken.None;

        var all = await JsonAsync(await client.GetAsync("/api/jobs", ct));
        Assert.Equal(2, all.GetProperty("total").GetInt32());
        Assert.Equal([_mixed.Id, _clean.Id], all.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("id").GetString()));

        var failed = await JsonAsync(await client.GetAsync("/api/jobs?status=CompletedWithErrors", ct));
        Assert.Equal("import", Assert.Single(failed.GetProperty("jobs").EnumerateArray()).GetProperty("name").GetString());
        Assert.Equal(1, (await JsonAsync(await client.GetAsync("/api/jobs?tag=db", ct))).GetProperty("total").GetInt32());
        Assert.Equal(1, (await JsonAsync(await client.GetAsync("/api/jobs?name=nightly", ct))).GetProperty("total").GetInt32());
        var second = await JsonAsync(await client.GetAsync("/api/jobs?limit=1&offset=1", ct));
        Assert.Equal((2, _clean.Id), (second.GetProperty("total").GetInt32(), Assert.Single(second.GetProperty("jobs").EnumerateArray()).GetProperty("id").GetString()));

        Assert.Equal("limit", (await ProblemAsync(await client.GetAsync("/api/jobs?limit=501", ct), HttpStatusCode.BadRequest)).GetProperty("field").GetString());
        Assert.Equal("offset", (await ProblemAsync(await client.GetAsync("/api/jobs?offset=-1", ct), HttpStatusCode.BadRequest)).GetProperty("field").GetString());
        var status = await ProblemAsync(await client.GetAsync("/api/jobs?status=Done", ct), HttpStatusCode.BadRequest);
        Assert.Equal("status", status.GetProperty("field").GetString());
        Assert.Contains("CompletedWithErrors", status.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AJob_ShowsItsCountsSettingsAndKind_AndAnUnknownIdIsA404()
    {
        using var client = await ServeAsync();
        var ct = CancellationToken.None;

        var job = await JsonAsync(await client.GetAsync($"/api/jobs/{_mixed.Id}", ct));

        Assert.Equal(("import", "CompletedWithErrors", "test", 1), (job.GetProperty("name").GetString(), job.GetProperty("status").GetString(), job.GetProperty("operationKind").GetString(), job.GetProperty("runs").GetInt32()));
        var counts = job.GetProperty("counts");
        Assert.Equal((120, 117, 3, 0), (counts.GetProperty("total").GetInt32(), counts.GetProperty("succeeded").GetInt32(), counts.GetProperty("failed").GetInt32(), counts.GetProperty("pending").GetInt32()));
        Assert.Equal(25, job.GetProperty("settings").GetProperty("chunkSize").GetInt32());
        Assert.False(job.TryGetProperty("operation", out _));
        var missing = await ProblemAsync(await client.GetAsync("/api/jobs/nosuchjob", ct), HttpStatusCode.NotFound);
        Assert.Contains("nosuchjob", missing.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Items_ArePagedByIndex_FilteredByStatus_WithErrorsAndHistory()
    {
        using var client = await ServeAsync();
        var ct = CancellationToken.None;

        var page = await JsonAsync(await client.GetAsync($"/api/jobs/{_mixed.Id}/items?offset=100&limit=50", ct));
        Assert.Equal(120, page.GetProperty("total").GetInt32());
        Assert.Equal(Enumerable.Range(100, 20), page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("index").GetInt32()));
        var ok = page.GetProperty("items")[0];
        Assert.Equal(("Succeeded", "done 100", "100"), (ok.GetProperty("status").GetString(), ok.GetProperty("output").GetString(), ok.GetProperty("input").GetString()));

        var failed = await JsonAsync(await client.GetAsync($"/api/jobs/{_mixed.Id}/items?status=Failed", ct));
        Assert.Equal(3, failed.GetProperty("total").GetInt32());
        Assert.Equal([7, 47, 87], failed.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("index").GetInt32()));
        Assert.Equal("row 47 is bad", failed.GetProperty("items")[1].GetProperty("error").GetProperty("message").GetString());

        var busy = 0;
        await new JobRunner(_store).RunAsync(_mixed.Id, new JobRunRequest<string?, string?>
        {
            // Item 47's first attempt of this run is answered 503 and tried again after the 20 ms asked for.
            Operation = BatchOperation<string?, string?>.PerItem((item, _) => item.Index == 47 && Interlocked.Increment(ref busy) == 1
                ? throw new BatchOperationException("answered 503", isRetryable: true, retryAfter: TimeSpan.FromMilliseconds(20)) { ErrorType = "HttpStatus", StatusCode = 503 }
                : ValueTask.FromResult<string?>("fixed")),
            InputCodec = TextPayloadCodec.Instance,
            OutputCodec = TextPayloadCodec.Instance,
            Kind = RunKind.RetryFailed,
            SettingsOverride = new JobSettings { RetryCount = 1 },
        }, ct);
        var history = await JsonAsync(await client.GetAsync($"/api/jobs/{_mixed.Id}/items/47/history", ct));
        var run = Assert.Single(history.GetProperty("runs").EnumerateArray());
        Assert.Equal(("Failed", "row 47 is bad"), (run.GetProperty("status").GetString(), run.GetProperty("error").GetProperty("message").GetString()));
        var retry = Assert.Single(history.GetProperty("retries").EnumerateArray());
        Assert.Equal((1, 503, "HttpStatus", 20.0), (retry.GetProperty("attempt").GetInt32(), retry.GetProperty("statusCode").GetInt32(), retry.GetProperty("errorType").GetString(), retry.GetProperty("delayMs").GetDouble()));

        Assert.Equal("status", (await ProblemAsync(await client.GetAsync($"/api/jobs/{_mixed.Id}/items?status=Broken", ct), HttpStatusCode.BadRequest)).GetProperty("field").GetString());
        Assert.Equal("index", (await ProblemAsync(await client.GetAsync($"/api/jobs/{_mixed.Id}/items/x/history", ct), HttpStatusCode.BadRequest)).GetProperty("field").GetString());
        await ProblemAsync(await client.GetAsync($"/api/jobs/{_mixed.Id}/items/120/history", ct), HttpStatusCode.NotFound);
        await ProblemAsync(await client.GetAsync("/api/jobs/nosuchjob/items", ct), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Workers_OnAStoreOfOneMachine_AreNone_AndSaySo()
    {
        using var client = await ServeAsync();

        var workers = await JsonAsync(await client.GetAsync("/api/workers", CancellationToken.None));

        Assert.False(workers.GetProperty("shared").GetBoolean());
        Assert.Equal(0, workers.GetProperty("workers").GetArrayLength());
    }

    [Fact]
    public async Task Statistics_CountJobsByStatusAndTag()
    {
        using var client = await ServeAsync();

        var stats = await JsonAsync(await client.GetAsync("/api/statistics", CancellationToken.None));

        Assert.Equal(2, stats.GetProperty("jobs").GetInt32());
        Assert.Equal(1, stats.GetProperty("byStatus").GetProperty("CompletedWithErrors").GetInt32());
        Assert.Equal(2, stats.GetProperty("byTag").GetProperty("ops").GetInt32());
        Assert.Equal(150, stats.GetProperty("items").GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task WithAToken_EveryRequestNeedsIt()
    {
        using var client = await ServeAsync(token: "s3cret-token");
        var ct = CancellationToken.None;

        var without = await client.GetAsync("/api/jobs", ct);
        await ProblemAsync(without, HttpStatusCode.Unauthorized);
        Assert.Equal("Bearer", without.Headers.WwwAuthenticate.Single().Scheme);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "wrong-token");
        await ProblemAsync(await client.GetAsync("/api/jobs", ct), HttpStatusCode.Unauthorized);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "s3cret-token");
        Assert.Equal(2, (await JsonAsync(await client.GetAsync("/api/jobs", ct))).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task ForeignOrigins_ReadOnlyMode_AndLargeBodies_AreRefused()
    {
        var ct = CancellationToken.None;
        using var client = await ServeAsync();
        using (var foreign = new HttpRequestMessage(HttpMethod.Post, $"/api/jobs/{_mixed.Id}/cancel") { Content = new StringContent("{}", Encoding.UTF8, "application/json") })
        {
            foreign.Headers.Add("Origin", "http://evil.example");
            await ProblemAsync(await client.SendAsync(foreign, ct), HttpStatusCode.Forbidden);
        }

        using (var large = new HttpRequestMessage(HttpMethod.Post, "/api/jobs") { Content = new ByteArrayContent(new byte[ServeOptions.MaxBodyBytes + 1]) })
        {
            // The refusal comes before the body is read: with 100-continue the client waits for it instead of sending.
            large.Headers.ExpectContinue = true;
            await ProblemAsync(await client.SendAsync(large, ct), HttpStatusCode.RequestEntityTooLarge);
        }

        using var readOnly = await ServeAsync(readOnly: true);
        var refused = await readOnly.PostAsync($"/api/jobs/{_mixed.Id}/cancel", new StringContent("{}", Encoding.UTF8, "application/json"), ct);
        Assert.Contains("read-only", (await ProblemAsync(refused, HttpStatusCode.MethodNotAllowed)).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AJobWhoseStreamedInputWasCutShort_SaysSo()
    {
        var result = await new JobRunner(_store).RunNewAsync(
            new JobDefinition { Name = "streamed", OperationKind = "test", Operation = "{}" },
            Enumerable.Range(0, 40).Select(i => (string?)i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToAsyncEnumerable(),
            new JobRunRequest<string?, string?>
            {
                Operation = BatchOperation<string?, string?>.PerItem((item, _) => ValueTask.FromResult(item.Value)),
                InputCodec = TextPayloadCodec.Instance,
                OutputCodec = TextPayloadCodec.Instance,
                InputCutShort = () => true,
            });
        using var client = await ServeAsync();

        var job = await JsonAsync(await client.GetAsync($"/api/jobs/{result.Job.Id}", CancellationToken.None));

        Assert.True(job.GetProperty("inputIncomplete").GetBoolean());
        Assert.StartsWith("input incomplete: 40 item(s) were recorded before the input stopped", job.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancel_StopsAPendingJob_AndSaysWhenThereIsNothingToStop()
    {
        var ct = CancellationToken.None;
        using var client = await ServeAsync();
        var pending = await new JobRunner(_store).CreateAsync(
            new JobDefinition { Name = "waiting", OperationKind = "test", Operation = "{}" }, ["a", "b"], TextPayloadCodec.Instance, TextPayloadCodec.Instance.Format);

        var cancelled = await JsonAsync(await client.PostAsync($"/api/jobs/{pending.Id}/cancel", JsonContent("{ \"force\": false }"), ct), HttpStatusCode.Accepted);
        var ended = await JsonAsync(await client.PostAsync($"/api/jobs/{_clean.Id}/cancel", null, ct), HttpStatusCode.Accepted);

        Assert.Equal("Cancelled", cancelled.GetProperty("outcome").GetString());
        Assert.Equal(JobStatus.Cancelled, (await _store.GetJobAsync(pending.Id, ct))!.Status);
        Assert.Equal("NotRunning", ended.GetProperty("outcome").GetString());
        Assert.Equal("force", (await ProblemAsync(await client.PostAsync($"/api/jobs/{_clean.Id}/cancel", JsonContent("{ \"force\": \"yes\" }"), ct), HttpStatusCode.BadRequest)).GetProperty("field").GetString());
        await ProblemAsync(await client.PostAsync("/api/jobs/nosuchjob/cancel", null, ct), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Delete_RemovesAJob_ButNotOneThatIsRunning()
    {
        var ct = CancellationToken.None;
        using var client = await ServeAsync();
        var runner = new JobRunner(_store);
        var job = await runner.CreateAsync(new JobDefinition { Name = "busy", OperationKind = "test", Operation = "{}" }, ["a"], TextPayloadCodec.Instance, TextPayloadCodec.Instance.Format);
        var release = new TaskCompletionSource();
        var started = new TaskCompletionSource();
        var run = runner.RunAsync(job.Id, new JobRunRequest<string?, string?>
        {
            Operation = BatchOperation<string?, string?>.PerItem(async (_, _) =>
            {
                started.TrySetResult();
                await release.Task;
                return "done";
            }),
            InputCodec = TextPayloadCodec.Instance,
            OutputCodec = TextPayloadCodec.Instance,
        }, ct);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30), ct);

        var busy = await ProblemAsync(await client.DeleteAsync($"/api/jobs/{job.Id}", ct), HttpStatusCode.Conflict);
        release.SetResult();
        await run.WaitAsync(TimeSpan.FromSeconds(30), ct);
        var removed = await client.DeleteAsync($"/api/jobs/{job.Id}", ct);

        Assert.Contains("cancel it first", busy.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        Assert.Null(await _store.GetJobAsync(job.Id, ct));
        await ProblemAsync(await client.DeleteAsync($"/api/jobs/{job.Id}", ct), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Export_StreamsTheJobAsJsonOrCsv()
    {
        var ct = CancellationToken.None;
        using var client = await ServeAsync();

        var json = await JsonAsync(await client.GetAsync($"/api/jobs/{_mixed.Id}/export?format=json", ct));
        var csv = await client.GetAsync($"/api/jobs/{_mixed.Id}/export?format=csv", ct);
        var lines = (await csv.Content.ReadAsStringAsync(ct)).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(120, json.GetProperty("items").GetArrayLength());
        Assert.Equal("row 87 is bad", json.GetProperty("items")[87].GetProperty("error").GetProperty("message").GetString());
        Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
        Assert.Equal(121, lines.Length);
        Assert.StartsWith("index,", lines[0], StringComparison.Ordinal);
        Assert.Equal("format", (await ProblemAsync(await client.GetAsync($"/api/jobs/{_mixed.Id}/export?format=xml", ct), HttpStatusCode.BadRequest)).GetProperty("field").GetString());
    }

    [Fact]
    public async Task Export_OfA100000ItemJob_IsStreamed_NotReadWholeFirst()
    {
        var ct = CancellationToken.None;
        // About 60 MB of CSV (each row's input and output carry 300 characters): far more than any socket buffers.
        var big = await RunJobAsync(new JobRunner(_store), "big-export", [], 100_000, _ => null, new string('.', 300));
        var (store, counter) = ItemReadCounter.Over(_store);
        var app = DashboardApi.Build(store, new ServeOptions("http://127.0.0.1:0", null, false));
        _servers.Add(app);
        await app.StartAsync(ct);
        using var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()), Timeout = TimeSpan.FromSeconds(60) };

        using var response = await client.GetAsync($"/api/jobs/{big.Id}/export?format=csv", HttpCompletionOption.ResponseHeadersRead, ct);
        Assert.Null(response.Content.Headers.ContentLength);
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        using var reader = new StreamReader(body);
        Assert.StartsWith("index,", await reader.ReadLineAsync(ct), StringComparison.Ordinal);

        // The client reads no further: a streaming server fills the socket's buffers and waits, so it
        // stops reading the store well short of the whole job.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        long before;
        do
        {
            before = counter.Read;
            await Task.Delay(500, ct);
        }
        while (counter.Read != before && DateTime.UtcNow < deadline);
        Assert.InRange(counter.Read, 1, 99_999);

        var rows = 0;
        while (await reader.ReadLineAsync(ct) is { Length: > 0 })
        {
            rows++;
        }

        Assert.Equal(100_000, rows);
        Assert.Equal(100_000, counter.Read);
    }

    private static StringContent JsonContent(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<JsonElement> WaitForAsync(HttpClient client, string id, Func<JsonElement, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var job = await JsonAsync(await client.GetAsync($"/api/jobs/{id}", CancellationToken.None));
            if (done(job))
            {
                return job;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Timed out; the job is {job}");
            await Task.Delay(50, CancellationToken.None);
        }
    }

    [Fact]
    public async Task APostedSpec_IsCheckedLikeBatchopsRun_ThenRunByTheServer()
    {
        var ct = CancellationToken.None;
        using var client = await ServeAsync();
        var flag = Path.Combine(_folder.Path, "fixed");
        var spec = $$"""
            { "name": "posted", "items": [{ "n": 1 }, { "n": 2 }, { "n": 3 }],
              "operation": { "kind": "exec", "command": "sh", "args": ["-c", "test $0 -ne 2 || test -e '{{flag}}' || (echo two is broken >&2; exit 3) && echo ran $0", "{n}"] } }
            """;

        var bad = await ProblemAsync(await client.PostAsync("/api/jobs", JsonContent(spec.Replace("\"items\"", "\"itemz\"", StringComparison.Ordinal)), ct), HttpStatusCode.BadRequest);
        Assert.Equal("spec", bad.GetProperty("field").GetString());
        Assert.Contains("unknown field \"itemz\"", bad.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, (await JsonAsync(await client.GetAsync("/api/jobs", ct))).GetProperty("total").GetInt32());

        var accepted = await JsonAsync(await client.PostAsync("/api/jobs", JsonContent(spec), ct), HttpStatusCode.Accepted);
        Assert.Equal("Queued", accepted.GetProperty("status").GetString());
        var id = accepted.GetProperty("id").GetString()!;
        var first = await WaitForAsync(client, id, j => j.GetProperty("status").GetString() is "CompletedWithErrors" or "Completed" or "Failed");
        Assert.Equal(("CompletedWithErrors", 2, 1), (first.GetProperty("status").GetString(), first.GetProperty("counts").GetProperty("succeeded").GetInt32(), first.GetProperty("counts").GetProperty("failed").GetInt32()));
        var failed = await JsonAsync(await client.GetAsync($"/api/jobs/{id}/items?status=Failed", ct));
        Assert.Contains("two is broken", failed.GetProperty("items")[0].GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);

        await File.WriteAllTextAsync(flag, "", ct);
        await JsonAsync(await client.PostAsync($"/api/jobs/{id}/retry", JsonContent("{ \"items\": null }"), ct), HttpStatusCode.Accepted);
        var retried = await WaitForAsync(client, id, j => j.GetProperty("status").GetString() == "Completed");
        Assert.Equal((3, 2), (retried.GetProperty("counts").GetProperty("succeeded").GetInt32(), retried.GetProperty("runs").GetInt32()));
        Assert.Equal("ran 2", (await JsonAsync(await client.GetAsync($"/api/jobs/{id}/items?offset=1&limit=1", ct))).GetProperty("items")[0].GetProperty("output").GetString());

        var nothing = await ProblemAsync(await client.PostAsync($"/api/jobs/{id}/retry", null, ct), HttpStatusCode.Conflict);
        Assert.Contains("no failed items", nothing.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("items", (await ProblemAsync(await client.PostAsync($"/api/jobs/{_mixed.Id}/retry", JsonContent("{ \"items\": \"all\" }"), ct), HttpStatusCode.BadRequest)).GetProperty("field").GetString());
        var foreign = await ProblemAsync(await client.PostAsync($"/api/jobs/{_mixed.Id}/retry", null, ct), HttpStatusCode.BadRequest);
        Assert.Contains("only the front end that created it", foreign.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task APostedStagedSpec_RunsItsStagesAndRollsBackLikeBatchopsRun()
    {
        var ct = CancellationToken.None;
        using var client = await ServeAsync();
        var log = Path.Combine(_folder.Path, "undo.log");
        var spec = $$"""
            { "name": "posted-stages", "onFailure": "rollback", "settings": { "throttleLimit": 1 },
              "stages": [
                { "name": "b", "dependsOn": ["a"], "key": "{n}", "items": [{ "n": 3 }, { "n": 4 }],
                  "operation": { "kind": "exec", "command": "sh", "args": ["-c", "test $0 -ne 4 && echo made-$0", "{n}"] } },
                { "name": "a", "key": "{n}", "items": [{ "n": 1 }, { "n": 2 }],
                  "operation": { "kind": "exec", "command": "sh", "args": ["-c", "echo made-$0", "{n}"] },
                  "undo": { "kind": "exec", "command": "sh", "args": ["-c", "echo $0 $BATCHOPS_ITEM_KEY >> '{{log}}'", "{output}"] } }
              ] }
            """;

        var accepted = await JsonAsync(await client.PostAsync("/api/jobs", JsonContent(spec), ct), HttpStatusCode.Accepted);
        var id = accepted.GetProperty("id").GetString()!;
        var done = await WaitForAsync(client, id, j => j.GetProperty("status").GetString() is "RolledBack" or "RollbackFailed" or "Failed" or "CompletedWithErrors");

        Assert.Equal(("RolledBack", 2), (done.GetProperty("status").GetString(), done.GetProperty("counts").GetProperty("compensated").GetInt32()));
        Assert.Equal(["made-2 2", "made-1 1"], await File.ReadAllLinesAsync(log, ct));
    }

    [Fact]
    public async Task Resume_RunsWhatAJobHasNotRun()
    {
        var ct = CancellationToken.None;
        using var client = await ServeAsync();
        var spec = """{ "name": "later", "items": [1, 2, 3, 4], "operation": { "kind": "exec", "command": "echo", "args": ["{item}"] } }""";
        var loaded = BatchOps.Operations.Spec.JobSpecLoader.Load(spec, "spec", _folder.Path, BatchOps.Engine.Config.SettingsFile.Empty);
        var job = await new JobRunner(_store).CreateAsync(loaded.Definition, loaded.Items, JsonPayloadCodec.Instance, TextPayloadCodec.Instance.Format);

        await JsonAsync(await client.PostAsync($"/api/jobs/{job.Id}/resume", null, ct), HttpStatusCode.Accepted);
        var done = await WaitForAsync(client, job.Id, j => j.GetProperty("status").GetString() == "Completed");

        Assert.Equal(4, done.GetProperty("counts").GetProperty("succeeded").GetInt32());
        Assert.Equal("3", (await JsonAsync(await client.GetAsync($"/api/jobs/{job.Id}/items?offset=2&limit=1", ct))).GetProperty("items")[0].GetProperty("output").GetString());
        await ProblemAsync(await client.PostAsync("/api/jobs/nosuchjob/resume", null, ct), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Events_ReportProgressAndTheEnd_OfAJobThatAnotherProcessRuns()
    {
        var ct = CancellationToken.None;
        using var client = await ServeAsync();
        using var response = await client.GetAsync("/api/events", HttpCompletionOption.ResponseHeadersRead, ct);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var events = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
        var spec = SpecFiles.WriteRaw(_folder.Path, """
            { "name": "elsewhere", "items": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
              "operation": { "kind": "exec", "command": "sleep", "args": ["0.25"] }, "settings": { "throttleLimit": 1, "chunkSize": 1 } }
            """);
        var run = CliHarness.RunProcessAsync(StoreFolder, TimeSpan.FromSeconds(60), "run", spec);

        var seen = new List<(string Event, JsonElement Data)>();
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        string? name = null;
        while (!seen.Any(e => e.Event == "status" && e.Data.GetProperty("name").GetString() == "elsewhere" && e.Data.GetProperty("status").GetString() == "Completed"))
        {
            var line = await events.ReadLineAsync(limit.Token) ?? throw new InvalidOperationException("The event stream ended.");
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                name = line["event: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                using var data = JsonDocument.Parse(line["data: ".Length..]);
                seen.Add((name!, data.RootElement.Clone()));
            }
        }

        Assert.Equal(0, (await run).ExitCode);
        var progress = seen.Where(e => e.Event == "progress" && e.Data.GetProperty("name").GetString() == "elsewhere").ToList();
        Assert.NotEmpty(progress);
        Assert.All(progress, p => Assert.InRange(p.Data.GetProperty("percent").GetDouble(), 0, 100));
        Assert.True(progress.Count <= 12, $"{progress.Count} progress events for a 3 s job: more than two a second");
        Assert.Contains(seen, e => e.Event == "status" && e.Data.GetProperty("name").GetString() == "elsewhere" && e.Data.GetProperty("status").GetString() == "Running");
    }

    [Fact]
    public async Task ThePage_IsServedFromTheAssembly_WithoutTheToken_AndFetchesNothingFromElsewhere()
    {
        var ct = CancellationToken.None;
        using var client = await ServeAsync(token: "page-token");

        var html = await client.GetAsync("/", ct);
        var script = await client.GetStringAsync("/app.js", ct);
        var css = await client.GetAsync("/app.css", ct);

        Assert.Equal(HttpStatusCode.OK, html.StatusCode);
        Assert.Equal("text/html", html.Content.Headers.ContentType?.MediaType);
        var page = await html.Content.ReadAsStringAsync(ct);
        Assert.Contains("<script src=\"/app.js\"></script>", page, StringComparison.Ordinal);
        Assert.Contains("default-src 'self'", html.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Equal("text/css", css.Content.Headers.ContentType?.MediaType);
        Assert.Contains("fetch('/api/events'", script, StringComparison.Ordinal);
        Assert.DoesNotContain("innerHTML", script, StringComparison.Ordinal);
        foreach (var text in new[] { page, script, await css.Content.ReadAsStringAsync(ct) })
        {
            Assert.DoesNotMatch("(https?:)?//[a-z0-9.-]+\\.[a-z]{2,}/", text);
        }

        await ProblemAsync(await client.GetAsync("/api/jobs", ct), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task TheOpenApiDocument_DescribesTheRoutes()
    {
        using var client = await ServeAsync();

        var document = await JsonAsync(await client.GetAsync("/openapi/v1.json", CancellationToken.None));

        var paths = document.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/api/jobs", out var jobs), paths.ToString());
        Assert.True(jobs.TryGetProperty("get", out _));
        Assert.True(jobs.TryGetProperty("post", out _));
        Assert.True(paths.TryGetProperty("/api/jobs/{id}/items", out _));
    }

    [Theory]
    [InlineData("http://0.0.0.0:8080", "leave out --no-token")]
    [InlineData("http://192.168.1.20:8080", "can be reached from other machines")]
    [InlineData("ftp://127.0.0.1:21", "is not an http:// or https:// address")]
    public void ListeningBeyondThisMachine_NeedsAToken(string urls, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => new ServeOptions(urls, null, false).Validate());

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        new ServeOptions("http://127.0.0.1:5178;http://[::1]:5178;http://localhost:5178", null, false).Validate();
        new ServeOptions(urls.StartsWith("http", StringComparison.Ordinal) ? urls : "http://127.0.0.1:1", "t", false).Validate();
    }

    [Fact]
    public async Task TheRealProcess_ServesJobsThatAnotherProcessRan()
    {
        var ct = CancellationToken.None;
        var spec = SpecFiles.WriteRaw(_folder.Path, """{ "name": "from-cli", "items": [1, 2, 3], "operation": { "kind": "exec", "command": "true" } }""");
        Assert.Equal(0, (await CliHarness.RunProcessAsync(StoreFolder, TimeSpan.FromSeconds(60), "run", spec)).ExitCode);
        var port = FreePort();

        using var serve = CliHarness.Start(StoreFolder, "serve", "--urls", $"http://127.0.0.1:{port}");
        try
        {
            var banner = await serve.StandardOutput.ReadLineAsync(ct).AsTask().WaitAsync(TimeSpan.FromSeconds(60), ct);
            Assert.Contains($"http://127.0.0.1:{port}", banner, StringComparison.Ordinal);
            var open = await serve.StandardOutput.ReadLineAsync(ct).AsTask().WaitAsync(TimeSpan.FromSeconds(60), ct);
            var url = System.Text.RegularExpressions.Regex.Match(open ?? string.Empty, $"^Open (http://127\\.0\\.0\\.1:{port}/\\?token=[0-9a-f]{{64}}) ").Groups[1].Value;
            Assert.True(url.Length > 0, $"no URL with a token to open in: {open}");

            // The two requests, as a page whose own name was made to resolve to 127.0.0.1 sends them.
            var marker = Path.Combine(_folder.Path, "pwned");
            using var rebinding = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
            using (var list = new HttpRequestMessage(HttpMethod.Get, "/api/jobs"))
            {
                list.Headers.Host = $"evil.example:{port}";
                await ProblemAsync(await rebinding.SendAsync(list, ct), HttpStatusCode.BadRequest);
            }

            using (var post = new HttpRequestMessage(HttpMethod.Post, "/api/jobs") { Content = new StringContent($$"""{ "name": "pwn", "items": [1], "operation": { "kind": "exec", "command": "sh", "args": ["-c", "echo pwned > '{{marker}}'"] } }""", Encoding.UTF8, "application/json") })
            {
                post.Headers.Host = $"evil.example:{port}";
                post.Headers.Add("Origin", $"http://evil.example:{port}");
                await ProblemAsync(await rebinding.SendAsync(post, ct), HttpStatusCode.BadRequest);
            }

            // And a local program without the token gets nothing either.
            await ProblemAsync(await rebinding.GetAsync("/api/jobs", ct), HttpStatusCode.Unauthorized);

            using var client = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() }) { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
            using (var page = await client.GetAsync(url, ct))
            {
                Assert.Equal($"http://127.0.0.1:{port}/", page.RequestMessage!.RequestUri!.ToString());
            }

            var jobs = await JsonAsync(await client.GetAsync("/api/jobs?name=from-cli", ct));
            var job = Assert.Single(jobs.GetProperty("jobs").EnumerateArray());
            Assert.Equal(("Completed", 3), (job.GetProperty("status").GetString(), job.GetProperty("counts").GetProperty("succeeded").GetInt32()));
            Assert.Equal(0, (await JsonAsync(await client.GetAsync("/api/jobs?name=pwn", ct))).GetProperty("total").GetInt32());
            Assert.False(File.Exists(marker));
        }
        finally
        {
            CliHarness.Signal(serve, "INT");
            await serve.WaitForExitAsync(ct).WaitAsync(TimeSpan.FromSeconds(30), ct);
        }

        Assert.Equal(0, serve.ExitCode);
    }

    [Fact]
    public async Task TheRealProcess_OnATakenPort_ExitsWithAPlainMessage()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var result = await CliHarness.RunProcessAsync(StoreFolder, TimeSpan.FromSeconds(60), "serve", "--urls", $"http://127.0.0.1:{port}");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains($"batchops serve: Failed to bind to address http://127.0.0.1:{port}: address already in use. Choose another port with --urls", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
