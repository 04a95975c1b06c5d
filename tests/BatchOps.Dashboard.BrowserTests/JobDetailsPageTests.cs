using BatchOps.Cli;
using BatchOps.Cli.Serve;
using BatchOps.Engine.Store;
using BatchOps.Engine.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.Playwright;

namespace BatchOps.Dashboard.BrowserTests;

/// <summary>
/// A job's page shows what the store knows about it: a staged job's stages (where each stands, a bar each),
/// each item's stage and a short form of its input, and the job's notices with the one that failed.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class JobDetailsPageTests(Browser browser) : IAsyncLifetime
{
    private static readonly string Screenshots = Path.Combine(AppContext.BaseDirectory, "screenshots");
    private readonly TempFolder _folder = new();
    private readonly string _hook = $"HOOK_{Guid.NewGuid():N}";
    private SqliteJobStore _store = null!;
    private WebApplication _server = null!;

    private string StoreFolder => Path.Combine(_folder.Path, "store");

    public async Task InitializeAsync()
    {
        _store = SqliteJobStore.Open(StoreFolder);
        _server = DashboardApi.Build(_store, new ServeOptions("http://127.0.0.1:0", null, false));
        await _server.StartAsync();
        Directory.CreateDirectory(Screenshots);
    }

    public async Task DisposeAsync()
    {
        Environment.SetEnvironmentVariable(_hook, null);
        await _server.DisposeAsync();
        _store.Dispose();
        SqliteConnection.ClearAllPools();
        _folder.Dispose();
    }

    [Fact]
    public async Task AStagedJobsPage_ShowsItsStages_ItsItemsStagesAndInputs_AndItsNotices()
    {
        // Nothing listens on the hook's port: its notice fails, and the page says so.
        Environment.SetEnvironmentVariable(_hook, "http://127.0.0.1:9/hook/T0KEN");
        var spec = Path.Combine(_folder.Path, "rollout.json");
        await File.WriteAllTextAsync(spec, $$"""
            {
              "name": "rollout",
              "stages": [
                { "name": "create", "items": [ { "host": "web01", "code": 0 }, { "host": "web02", "code": 3 }, { "host": "web03", "code": 0 } ],
                  "operation": { "kind": "exec", "command": "sh", "args": ["-c", "exit {code}"] },
                  "undo": { "kind": "exec", "command": "sh", "args": ["-c", "exit 0"] } },
                { "name": "verify", "dependsOn": ["create"], "items": [ { "host": "web01" } ],
                  "operation": { "kind": "exec", "command": "sh", "args": ["-c", "exit 0"] },
                  "undo": { "kind": "exec", "command": "sh", "args": ["-c", "exit 0"] } }
              ],
              "settings": { "retryCount": 0 },
              "notify": [ { "on": ["Failed", "CompletedWithErrors"], "webhook": "env:{{_hook}}" } ]
            }
            """);
        using var output = new StringWriter();
        using var error = new StringWriter();
        await BatchOpsCli.RunAsync(["run", spec, "--store", StoreFolder], output, error);
        var job = (await _store.FindJobsAsync(new JobQuery { Name = "rollout" })).Single();

        var (page, errors) = await browser.NewPageAsync();
        await page.GotoAsync($"{_server.Urls.First()}#/jobs/{job.Id}");
        await Assertions.Expect(page.Locator("#job-name")).ToHaveTextAsync("rollout");

        var create = page.Locator("#stages tbody tr[data-stage='create']");
        await Assertions.Expect(create.Locator(".status.CompletedWithErrors")).ToBeVisibleAsync();
        Assert.Matches(@"^create\s+CompletedWithErrors\s+3\s+2\s+1\s+0\s+0", (await create.InnerTextAsync()).Trim());
        var verify = page.Locator("#stages tbody tr[data-stage='verify']");
        await Assertions.Expect(verify).ToContainTextAsync("create");
        await Assertions.Expect(verify.Locator(".status.Skipped")).ToBeVisibleAsync();

        await Assertions.Expect(page.Locator("#undo-order")).ToHaveTextAsync("Undo compensates the stages in this order, each stage's items newest first: verify → create.");
        var failedNotice = page.Locator("#notices li.failed");
        await Assertions.Expect(failedNotice).ToContainTextAsync($"webhook env:{_hook} (json) on Failed, CompletedWithErrors: FAILED after 3 attempt(s)");
        await Assertions.Expect(failedNotice).Not.ToContainTextAsync("T0KEN"); // a URL's path and query are its secret; only the host is named

        var second = page.Locator("#items tbody tr").Nth(1);
        await Assertions.Expect(second.Locator("td.stage-col")).ToHaveTextAsync("create");
        await Assertions.Expect(second.Locator("td.stage-col")).ToBeVisibleAsync();
        await Assertions.Expect(second.Locator("td.input")).ToHaveTextAsync("""{"host":"web02","code":3}""");
        // A finished job's throughput is charted from its items' end times (the three that ran).
        Assert.True(await page.EvaluateAsync<int>("() => state.samples.length") == 60, "the finished job's chart has no points");
        using (var http = new HttpClient())
        {
            var chart = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync($"{_server.Urls.First()}/api/jobs/{job.Id}/throughput")).RootElement;
            Assert.Equal((3, false), (chart.GetProperty("items").GetInt32(), chart.GetProperty("sampled").GetBoolean()));
            var points = chart.GetProperty("points").EnumerateArray().ToList();
            var width = chart.GetProperty("bucketSeconds").GetDouble();
            Assert.Equal(3.0, points.Sum(p => p.GetProperty("rate").GetDouble() * width), 3);
        }

        await page.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "job-stages.png"), FullPage = true });
        Assert.Empty(errors);
    }

    [Fact]
    public async Task Undo_AsksFirst_ThenCompensatesTheJobsItems_AndThePageShowsThemUndone()
    {
        var marks = Path.Combine(_folder.Path, "undone");
        Directory.CreateDirectory(marks);
        var spec = Path.Combine(_folder.Path, "undoable.json");
        await File.WriteAllTextAsync(spec, $$"""
            {
              "name": "undoable",
              "items": [ { "n": 1 }, { "n": 2 }, { "n": 3 } ],
              "operation": { "kind": "exec", "command": "sh", "args": ["-c", "exit 0"] },
              "undo": { "kind": "exec", "command": "sh", "args": ["-c", "touch \"$0/$1\"", "{{marks}}", "{n}"] }
            }
            """);
        using var output = new StringWriter();
        using var error = new StringWriter();
        Assert.Equal(0, await BatchOpsCli.RunAsync(["run", spec, "--store", StoreFolder], output, error));
        var job = (await _store.FindJobsAsync(new JobQuery { Name = "undoable" })).Single();

        var (page, errors) = await browser.NewPageAsync();
        await page.GotoAsync($"{_server.Urls.First()}#/jobs/{job.Id}");
        var undo = page.Locator("[data-action='undo']");
        await Assertions.Expect(undo).ToBeEnabledAsync();

        // Dismissed: nothing happens.
        string? asked = null;
        void Dismiss(object? sender, IDialog dialog)
        {
            asked = dialog.Message;
            _ = dialog.DismissAsync();
        }

        page.Dialog += Dismiss;
        await undo.ClickAsync();
        await Assertions.Expect(page.Locator("#job-meta .status")).ToHaveTextAsync("Completed");
        Assert.Equal("Undo job 'undoable': compensate its 3 succeeded item(s) with its undo operation, newest first?", asked);
        Assert.Empty(Directory.GetFiles(marks));

        page.Dialog -= Dismiss;
        page.Dialog += (_, dialog) => _ = dialog.AcceptAsync();
        await undo.ClickAsync();
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); (await _store.GetJobAsync(job.Id))!.Status != Engine.Jobs.JobStatus.RolledBack; await Task.Delay(100))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "the job was never rolled back");
        }

        await page.EvaluateAsync($"() => loadJob('{job.Id}', false)");
        await Assertions.Expect(page.Locator("#job-meta .status")).ToHaveTextAsync("RolledBack");
        await Assertions.Expect(page.Locator("#job-counts")).ToContainTextAsync("3Undone");
        Assert.Equal(["1", "2", "3"], Directory.GetFiles(marks).Select(Path.GetFileName).Order());
        Assert.Empty(errors);
    }

    [Fact]
    public async Task Statistics_ShowTheStoresSize_AndWhatRetentionRemovesNext()
    {
        var spec = Path.Combine(_folder.Path, "kept.json");
        await File.WriteAllTextAsync(spec, """{ "name": "kept", "items": [ { "n": 1 }, { "n": 2 } ], "operation": { "kind": "exec", "command": "sh", "args": ["-c", "exit 0"] } }""");
        using var output = new StringWriter();
        using var error = new StringWriter();
        Assert.Equal(0, await BatchOpsCli.RunAsync(["run", spec, "--store", StoreFolder], output, error));
        var job = (await _store.FindJobsAsync(new JobQuery { Name = "kept" })).Single();
        var settings = Path.Combine(_folder.Path, "settings.json");
        await File.WriteAllTextAsync(settings, """{ "retention": { "Completed": "30d" } }""");
        await using var server = DashboardApi.Build(_store, new ServeOptions("http://127.0.0.1:0", null, false), settings: Engine.Config.SettingsFile.Load(settings));
        await server.StartAsync();

        var (page, errors) = await browser.NewPageAsync();
        await page.GotoAsync($"{server.Urls.First()}#/statistics");
        await Assertions.Expect(page.Locator("#store-size")).ToContainTextAsync("bytes/item");
        Assert.Matches(@"^[\d.]+ (KB|MB)", await page.Locator("#store-size b").InnerTextAsync());
        var next = page.Locator($"#retention tbody tr[data-job='{job.Id}']");
        await Assertions.Expect(next).ToContainTextAsync("kept");
        await Assertions.Expect(next.Locator(".status.Completed")).ToBeVisibleAsync();
        await Assertions.Expect(next).Not.ToContainTextAsync("due now"); // thirty days from its end
        await page.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "statistics-retention.png"), FullPage = true });

        // A job without an undo operation offers no Undo.
        await next.GetByRole(AriaRole.Link, new() { Name = "kept" }).ClickAsync();
        await Assertions.Expect(page.Locator("#job-name")).ToHaveTextAsync("kept");
        await Assertions.Expect(page.Locator("[data-action='retry']")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-action='undo']")).ToBeHiddenAsync();
        await Assertions.Expect(page.Locator("#job-outputs")).ToBeHiddenAsync();
        Assert.Empty(errors);
    }

    [Fact]
    public async Task AJobThatKeepsNoOutputs_SaysSo_AndItsItemsShowNotKept()
    {
        var spec = Path.Combine(_folder.Path, "quiet.json");
        await File.WriteAllTextAsync(spec, """
            { "name": "quiet", "items": [ { "n": 1 }, { "n": 2 }, { "n": 3 } ], "keepOutput": "none",
              "operation": { "kind": "exec", "command": "sh", "args": ["-c", "[ $0 = 2 ] && exit 4; echo ran $0", "{n}"] } }
            """);
        using var output = new StringWriter();
        using var error = new StringWriter();
        Assert.Equal(1, await BatchOpsCli.RunAsync(["run", spec, "--store", StoreFolder], output, error));
        var job = (await _store.FindJobsAsync(new JobQuery { Name = "quiet" })).Single();

        var (page, errors) = await browser.NewPageAsync();
        await page.GotoAsync($"{_server.Urls.First()}#/jobs/{job.Id}");

        await Assertions.Expect(page.Locator("#job-outputs")).ToHaveTextAsync("Outputs: outputs were not kept (KeepOutput None).");
        var rows = page.Locator("#items tbody tr");
        await Assertions.Expect(rows).ToHaveCountAsync(3);
        await Assertions.Expect(rows.Nth(0).Locator("td").Last).ToHaveTextAsync("not kept");
        await Assertions.Expect(rows.Nth(1).Locator("td").Last).ToContainTextAsync("exited with code 4");
        await Assertions.Expect(rows.Nth(2).Locator("td.muted")).ToHaveTextAsync("not kept");
        Assert.Empty(errors);
    }
}
