using System.Text.Json;
using BatchOps.Cli.Serve;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using BatchOps.Engine.Workers;
using BatchOps.Postgres;
using BatchOps.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Playwright;

namespace BatchOps.Dashboard.BrowserTests;

/// <summary>
/// The dashboard over a shared PostgreSQL store: the Statistics view lists the store's workers (a real
/// worker running a job in this process, and one that went missing), and a worker's job opens its page.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class WorkersPageTests(Browser browser, PostgresServer postgres) : IClassFixture<PostgresServer>, IAsyncLifetime
{
    private static readonly string Screenshots = Path.Combine(AppContext.BaseDirectory, "screenshots");
    private PostgresJobStore _store = null!;
    private WebApplication _server = null!;
    private string _database = string.Empty;

    public async Task InitializeAsync()
    {
        _store = PostgresJobStore.Open(_database = await postgres.CreateDatabaseAsync());
        _server = DashboardApi.Build(_store, new ServeOptions("http://127.0.0.1:0", null, false));
        await _server.StartAsync();
        Directory.CreateDirectory(Screenshots);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _store.Dispose();
    }

    [Fact]
    public async Task Statistics_ListsTheWorkers_BusyWithALinkToItsJob_OneAskedToStop_AndOneThatWentMissing()
    {
        var job = await new JobRunner(_store).CreateAsync(
            new JobDefinition { Name = "mailbox-moves", OperationKind = "test", Operation = "{}", Settings = new JobSettings { ChunkSize = 5, ThrottleLimit = 1 } },
            Enumerable.Range(0, 20).Select(i => JsonSerializer.SerializeToElement(i)), JsonPayloadCodec.Instance, "text");
        await _store.EnqueueAsync(job.Id);
        using var release = new SemaphoreSlim(0);
        var handler = QueuedJobHandler.Create(new JobRunRequest<JsonElement, string?>
        {
            Operation = BatchOperation<JsonElement, string?>.PerItem(async (_, cancel) =>
            {
                await release.WaitAsync(cancel);
                return null;
            }),
            InputCodec = JsonPayloadCodec.Instance,
            OutputCodec = TextPayloadCodec.Instance,
        });
        var worker = new JobWorker(_store, _ => handler, new WorkerOptions { Name = "mover-1", Kinds = ["test"], Lease = TimeSpan.FromSeconds(5), PollInterval = TimeSpan.FromMilliseconds(50) });
        await _store.ReportWorkerAsync(new WorkerPresence("gone", new WorkerIdentity("mover-2", "db2", 4242), ["test"], 1, TimeSpan.FromSeconds(30), 3));
        await using (var connection = new Npgsql.NpgsqlConnection(_database))
        {
            await connection.OpenAsync();
            await using var backdate = new Npgsql.NpgsqlCommand("UPDATE batchops.workers SET seen_at = seen_at - interval '5 minutes' WHERE id = 'gone'", connection);
            Assert.Equal(1, await backdate.ExecuteNonQueryAsync());
        }

        // A worker asked to stop, still finishing (a long lease keeps it from going Missing meanwhile).
        await _store.ReportWorkerAsync(new WorkerPresence("leaving", new WorkerIdentity("mover-3", "db3", 5151), ["test"], 1, TimeSpan.FromMinutes(10), 0));
        Assert.Equal(["leaving"], await _store.AskWorkersToStopAsync(["leaving"]));

        using var stop = new CancellationTokenSource();
        var running = worker.RunAsync(stop.Token);
        try
        {
            var (page, errors) = await browser.NewPageAsync();
            await page.GotoAsync($"{_server.Urls.First()}#/statistics");
            var busy = page.Locator("#workers tbody tr[data-worker='mover-1']");
            await busy.WaitForAsync();

            // The list is read when the view opens: reopen it until the worker's first chunk is held.
            for (var tries = 0; !(await busy.InnerTextAsync()).Contains("Busy", StringComparison.Ordinal); tries++)
            {
                Assert.True(tries < 100, $"mover-1 never showed Busy: {await busy.InnerTextAsync()}");
                await page.EvaluateAsync("() => loadWorkers()");
                await Task.Delay(100);
            }

            await Assertions.Expect(busy.Locator(".status.Busy")).ToBeVisibleAsync();
            await Assertions.Expect(busy).ToContainTextAsync($"{Environment.MachineName} ({Environment.ProcessId})");
            var missing = page.Locator("#workers tbody tr[data-worker='mover-2']");
            await Assertions.Expect(missing.Locator(".status.Missing")).ToBeVisibleAsync();
            await Assertions.Expect(missing).ToContainTextAsync("db2 (4242)");
            await Assertions.Expect(page.Locator("#workers tbody tr[data-worker='mover-3'] .status.Stopping")).ToBeVisibleAsync();
            await page.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "workers.png"), FullPage = true });

            await busy.GetByText(job.Id).ClickAsync();
            await page.WaitForURLAsync($"**/#/jobs/{job.Id}");
            await Assertions.Expect(page.Locator("#job-name")).ToHaveTextAsync("mailbox-moves");
            Assert.Empty(errors);
        }
        finally
        {
            release.Release(100);
            await stop.CancelAsync();
            await running.WaitAsync(TimeSpan.FromSeconds(60));
        }
    }

    [Fact]
    public async Task AQueuedJobThatNoRunningWorkerTakes_IsSaidUnderTheWorkers_AndOnItsPage()
    {
        var job = await new JobRunner(_store).CreateAsync(
            new JobDefinition { Name = "verify-mailboxes", OperationKind = "scriptblock", Operation = "{}", Settings = new JobSettings { ChunkSize = 5 } },
            Enumerable.Range(0, 10).Select(i => JsonSerializer.SerializeToElement(i)), JsonPayloadCodec.Instance, "text");
        await _store.EnqueueAsync(job.Id);
        await _store.ReportWorkerAsync(new WorkerPresence("cli", new WorkerIdentity("cli-1", "app1", 4242), ["exec", "http", "sql"], 1, TimeSpan.FromMinutes(10), 0));

        var (page, errors) = await browser.NewPageAsync();
        await page.GotoAsync($"{_server.Urls.First()}#/statistics");
        var line = page.Locator($"#waiting li[data-job='{job.Id}']");
        await Assertions.Expect(line).ToContainTextAsync("2 chunk(s) of kind scriptblock wait for a worker that runs scriptblock");
        await Assertions.Expect(line).ToContainTextAsync("Start-BatchWorker in PowerShell runs every kind.");
        await page.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "workers-waiting.png"), FullPage = true });

        await line.GetByRole(AriaRole.Link, new() { Name = "verify-mailboxes" }).ClickAsync();
        await page.WaitForURLAsync($"**/#/jobs/{job.Id}");
        await Assertions.Expect(page.Locator("#job-waiting")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#job-waiting")).ToContainTextAsync($"Job 'verify-mailboxes' ({job.Id}): 2 chunk(s) of kind scriptblock");

        // Once a worker that runs script blocks is there, neither says it any more.
        await _store.ReportWorkerAsync(new WorkerPresence("ps", new WorkerIdentity("ps-1", "app2", 5151), ["scriptblock"], 1, TimeSpan.FromMinutes(10), 0));
        await page.EvaluateAsync($"() => loadJob('{job.Id}', false)");
        await Assertions.Expect(page.Locator("#job-waiting")).ToBeHiddenAsync();
        await page.GotoAsync($"{_server.Urls.First()}#/statistics");
        await Assertions.Expect(page.Locator("#workers tbody tr[data-worker='ps-1']")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#waiting")).ToBeHiddenAsync();
        Assert.Empty(errors);
    }
}
