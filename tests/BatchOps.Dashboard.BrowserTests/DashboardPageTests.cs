using System.Net.Http.Json;
using System.Text.Json;
using BatchOps.Cli.Serve;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using BatchOps.Engine.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.Playwright;

namespace BatchOps.Dashboard.BrowserTests;

/// <summary>
/// The dashboard as a user sees it, in headless Chromium against a real server over a real store: the
/// history, a live progress bar, Cancel, Retry failed, a failed item's error, and no console errors.
/// Screenshots of the main views land in screenshots/ beside the test assembly.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class DashboardPageTests(Browser browser) : IAsyncLifetime
{
    private static readonly string Screenshots = Path.Combine(AppContext.BaseDirectory, "screenshots");
    private readonly TempFolder _folder = new();
    private SqliteJobStore _store = null!;
    private WebApplication _server = null!;
    private JobRunner _runner = null!;

    private string BaseUrl => _server.Urls.First();

    public async Task InitializeAsync()
    {
        _store = SqliteJobStore.Open(Path.Combine(_folder.Path, "store"));
        _runner = new JobRunner(_store) { HeartbeatInterval = TimeSpan.FromMilliseconds(200) };
        _server = DashboardApi.Build(_store, new ServeOptions("http://127.0.0.1:0", null, false));
        await _server.StartAsync();
        Directory.CreateDirectory(Screenshots);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _store.Dispose();
        SqliteConnection.ClearAllPools();
        _folder.Dispose();
    }

    private async Task<JobRecord> RunJobAsync(string name, int count, Func<long, string?> failure, TimeSpan? delay = null, Action<JobRecord>? created = null)
    {
        var job = await _runner.CreateAsync(
            new JobDefinition { Name = name, Tags = ["ops"], OperationKind = "test", Operation = "{}", Settings = new JobSettings { ChunkSize = 10, ThrottleLimit = 1 } },
            Enumerable.Range(0, count).Select(i => (string?)$"host{i:D2}"), TextPayloadCodec.Instance, TextPayloadCodec.Instance.Format);
        created?.Invoke(job);
        var result = await _runner.RunAsync(job.Id, new JobRunRequest<string?, string?>
        {
            Operation = BatchOperation<string?, string?>.PerItem(async (item, cancel) =>
            {
                if (delay is { } wait)
                {
                    await Task.Delay(wait, cancel);
                }

                return failure(item.Index) is { } message ? throw new InvalidOperationException(message) : $"patched {item.Value}";
            }),
            InputCodec = TextPayloadCodec.Instance,
            OutputCodec = TextPayloadCodec.Instance,
        });
        return result.Job;
    }

    [Fact]
    public async Task TheHistoryListsJobs_AndAJobPageShowsAFailedItemsError()
    {
        await RunJobAsync("inventory", 12, _ => null);
        var failed = await RunJobAsync("nightly-patch", 40, i => i % 13 == 5 ? $"host{i:D2}: package lock held" : null);
        var (page, errors) = await browser.NewPageAsync();

        await page.GotoAsync(BaseUrl);
        await page.Locator("#history tbody tr", new() { HasText = "nightly-patch" }).WaitForAsync();
        await Assertions.Expect(page.Locator("#history tbody tr")).ToHaveCountAsync(2);
        Assert.Contains("CompletedWithErrors", await page.Locator("#history tbody tr", new() { HasText = "nightly-patch" }).InnerTextAsync(), StringComparison.Ordinal);
        await page.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "overview.png") });

        await page.ClickAsync("text=nightly-patch");
        await page.WaitForURLAsync($"**/#/jobs/{failed.Id}");
        await page.Locator("#job-counts").GetByText("Failed").WaitForAsync();
        await page.SelectOptionAsync("#item-filters select[name=status]", "Failed");
        await Assertions.Expect(page.Locator("#items tbody tr")).ToHaveCountAsync(3);
        await Assertions.Expect(page.Locator("#items tbody tr").Nth(1)).ToContainTextAsync("host18: package lock held");
        await page.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "job-failed-items.png"), FullPage = true });

        var (narrow, narrowErrors) = await browser.NewPageAsync(420, 800);
        await narrow.GotoAsync($"{BaseUrl}#/jobs/{failed.Id}");
        await narrow.Locator("#items tbody tr").First.WaitForAsync();
        Assert.True(await narrow.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth"), "the narrow page scrolls sideways");
        await narrow.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "job-narrow.png") });
        Assert.Empty(errors);
        Assert.Empty(narrowErrors);
    }

    [Fact]
    public async Task ARunningJobsBar_MovesWithoutAReload_AndCancelStopsIt()
    {
        var created = new TaskCompletionSource<JobRecord>();
        var run = Task.Run(() => RunJobAsync("mailbox-migration", 200, _ => null, TimeSpan.FromMilliseconds(60), created: created.SetResult));
        var job = await created.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var (page, errors) = await browser.NewPageAsync();

        await page.GotoAsync(BaseUrl);
        var bar = page.Locator($"#active [data-id='{job.Id}'] .progress div");
        await bar.WaitForAsync();
        var first = await bar.EvaluateAsync<double>("b => parseFloat(b.style.width)");
        await page.WaitForFunctionAsync(
            "([id, before]) => { const b = document.querySelector(`#active [data-id='${id}'] .progress div`); return b && parseFloat(b.style.width) > before; }",
            new object[] { job.Id, first });
        await page.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "active-job.png") });

        await page.ClickAsync($"#active [data-id='{job.Id}']");
        await page.WaitForURLAsync($"**/#/jobs/{job.Id}");
        await page.Locator("[data-action=cancel]:not([disabled])").WaitForAsync();
        await page.ClickAsync("[data-action=cancel]");
        var ended = await run.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(JobStatus.Cancelled, ended.Status);
        Assert.True(ended.Counts.Unfinished > 0, "the job ran to the end before the stop");
        await page.Locator("#job-meta .status.Cancelled").WaitForAsync();
        await page.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "job-cancelled.png") });
        Assert.Empty(errors);
    }

    [Fact]
    public async Task RetryFailed_RunsOnlyTheFailedItemsAgain()
    {
        var ran = Path.Combine(_folder.Path, "ran.txt");
        var flag = Path.Combine(_folder.Path, "fixed");
        using var client = new HttpClient { BaseAddress = new Uri(BaseUrl) };
        var spec = new
        {
            name = "patch-retry",
            items = new[] { "web01", "web02", "db01", "db02" }.Select(host => new { host }).ToArray(),
            operation = new { kind = "exec", command = "sh", args = new[] { "-c", $"echo $0 >> '{ran}'; test $0 != db01 || test -e '{flag}' || (echo db01: disk full >&2; exit 5)", "{host}" } },
        };
        var posted = await client.PostAsJsonAsync("/api/jobs", spec);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, posted.StatusCode);
        var id = (await posted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        await WaitForStatusAsync(id, JobStatus.CompletedWithErrors);
        var (page, errors) = await browser.NewPageAsync();

        await page.GotoAsync($"{BaseUrl}#/jobs/{id}");
        await page.Locator("#items tbody tr", new() { HasText = "db01: disk full" }).WaitForAsync();
        await File.WriteAllTextAsync(flag, string.Empty);
        await page.ClickAsync("[data-action=retry]");
        await page.Locator("#job-meta .status.Completed").WaitForAsync();

        var lines = await File.ReadAllLinesAsync(ran);
        Assert.Equal(5, lines.Length);
        Assert.Equal(["db01", "db02", "web01", "web02"], lines.Take(4).Order(StringComparer.Ordinal));
        Assert.Equal("db01", lines[4]);
        var job = (await _store.GetJobAsync(id))!;
        Assert.Equal((4L, 0L, 2), (job.Counts.Succeeded, job.Counts.Failed, job.RunCount));
        Assert.Empty(errors);
    }

    private async Task WaitForStatusAsync(string id, JobStatus status)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while ((await _store.GetJobAsync(id))?.Status != status)
        {
            Assert.True(DateTime.UtcNow < deadline, $"job {id} never became {status}");
            await Task.Delay(50);
        }
    }
}
