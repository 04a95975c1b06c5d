using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using BatchOps.Cli.Serve;
using BatchOps.Cli.Tests.Support;
using BatchOps.Engine.Tests.Support;
using BatchOps.Postgres;
using BatchOps.Testing;
using Microsoft.AspNetCore.Builder;

namespace BatchOps.Cli.Tests.Telemetry;

/// <summary>
/// A real Prometheus scrapes a real `batchops worker --metrics-urls` process and a real server (its /metrics
/// behind the token) while they run jobs, and PromQL over its HTTP API returns each job's items by status.
/// </summary>
[Collection(QuietPostgresCollection.Name)]
public sealed class PrometheusScrapeTests(PostgresServer postgres) : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);
    private const string Token = "scrape-token-0123456789";
    private readonly TempFolder _folder = new();
    private readonly LoopbackHttpServer _target = new();
    private string _database = string.Empty;

    public async Task InitializeAsync() => _database = await postgres.CreateDatabaseAsync();

    public Task DisposeAsync()
    {
        _target.Dispose();
        _folder.Dispose();
        return Task.CompletedTask;
    }

    private object Spec(string name, int count) => new
    {
        name,
        items = Enumerable.Range(0, count).Select(n => new { n, path = n % 10 == 3 ? "missing" : "ok" }),
        operation = new { kind = "http", url = $"{_target.BaseUrl}/{{path}}/{name}-{{n}}" },
        settings = new { chunkSize = 5, throttleLimit = 2, retryCount = 0 },
    };

    [Fact]
    public async Task Prometheus_ScrapesAWorkerAndAServer_AndPromQLGivesEachJobsItemsByStatus()
    {
        var workerPort = PrometheusServer.FreePort();
        await using var server = DashboardApi.Build(PostgresJobStore.Open(_database), new ServeOptions("http://127.0.0.1:0", Token, false));
        await server.StartAsync();
        var serverUrl = new Uri(server.Urls.First());

        // Without the token, the server's metrics are refused like its API.
        using var anonymous = new HttpClient();
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await anonymous.GetAsync(new Uri(serverUrl, "/metrics"))).StatusCode);

        using var worker = CliHarness.StartWith(_database, new Dictionary<string, string> { ["BATCHOPS_HOME"] = _folder.Path },
            "worker", "--name", "prom-worker", "--metrics-urls", $"http://127.0.0.1:{workerPort}");
        var workerOutput = new StringBuilder();
        worker.OutputDataReceived += (_, e) => { lock (workerOutput) workerOutput.AppendLine(e.Data); };
        worker.ErrorDataReceived += (_, e) => { lock (workerOutput) workerOutput.AppendLine(e.Data); };
        worker.BeginOutputReadLine();
        worker.BeginErrorReadLine();
        try
        {
            using var prometheus = await PrometheusServer.StartAsync([
                new("worker", $"127.0.0.1:{workerPort}"),
                new("server", $"127.0.0.1:{serverUrl.Port}", Token),
            ]);

            // A job for the worker (batchops submit), and one the server runs itself (posted to its API).
            var submitted = await CliHarness.RunAsync(_database, "submit", SpecFiles.Write(_folder.Path, Spec("prom-queued", 40), "queued.json"), "--json");
            Assert.True(submitted.ExitCode == 0, submitted.ToString());
            using var api = new HttpClient { BaseAddress = serverUrl };
            api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
            var posted = await api.PostAsync("/api/jobs", new StringContent(JsonSerializer.Serialize(Spec("prom-served", 20)), Encoding.UTF8, "application/json"));
            Assert.True(posted.IsSuccessStatusCode, await posted.Content.ReadAsStringAsync());

            var queued = await prometheus.QueryUntilAsync(
                "sum by (batchops_status) (batchops_items_total{job=\"worker\", batchops_job_name=\"prom-queued\"})",
                r => r.Sum(s => s.Value) == 40, Bound);
            Assert.Equal(new Dictionary<string, double> { ["Succeeded"] = 36, ["Failed"] = 4 }, queued.ToDictionary(s => s.Labels["batchops_status"], s => s.Value));

            var served = await prometheus.QueryUntilAsync(
                "sum by (batchops_status) (batchops_items_total{job=\"server\", batchops_job_name=\"prom-served\"})",
                r => r.Sum(s => s.Value) == 20, Bound);
            Assert.Equal(new Dictionary<string, double> { ["Succeeded"] = 18, ["Failed"] = 2 }, served.ToDictionary(s => s.Labels["batchops_status"], s => s.Value));

            // The worker's own figures: the chunks it claimed, and the job it ended.
            var claimed = await prometheus.QueryUntilAsync("sum(batchops_worker_chunks_claimed_total{job=\"worker\", batchops_job_name=\"prom-queued\"})", r => r.Sum(s => s.Value) == 8, Bound);
            Assert.Equal(8, Assert.Single(claimed).Value);
            var ended = await prometheus.QueryUntilAsync("sum by (batchops_status) (batchops_jobs_total{batchops_job_name=\"prom-queued\"})", r => r.Count > 0, Bound);
            Assert.Equal("CompletedWithErrors", Assert.Single(ended).Labels["batchops_status"]);
            var durations = await prometheus.QueryUntilAsync("sum(batchops_item_duration_seconds_count{job=\"server\", batchops_job_name=\"prom-served\"})", r => r.Sum(s => s.Value) == 20, Bound);
            Assert.Equal(20, Assert.Single(durations).Value);
        }
        finally
        {
            worker.Kill(entireProcessTree: true);
            await worker.WaitForExitAsync();
        }

        lock (workerOutput)
        {
            Assert.Contains($"Metrics for Prometheus: http://127.0.0.1:{workerPort}/metrics", workerOutput.ToString(), StringComparison.Ordinal);
        }
    }
}
