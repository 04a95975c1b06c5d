using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace BatchOps.Cli.Tests.Telemetry;

/// <summary>
/// A real Prometheus (Debian's prometheus package; .ci/run installs it when missing) on 127.0.0.1 with a
/// throwaway configuration and data folder, scraping the given targets every second; queried over its
/// HTTP API. Killed and its folder removed on dispose.
/// </summary>
public sealed class PrometheusServer : IDisposable
{
    private readonly Process _process;
    private readonly string _folder;
    private readonly HttpClient _client;

    private PrometheusServer(Process process, string folder, int port)
    {
        _process = process;
        _folder = folder;
        _client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
    }

    /// <summary>One scrape target: its job label, its host:port, and the bearer token it wants (if any).</summary>
    public sealed record Target(string Job, string Address, string? Token = null);

    public static string Executable =>
        new[] { "/usr/bin/prometheus", "/usr/local/bin/prometheus" }.FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("Prometheus is not installed: apt-get install prometheus (.ci/run installs it when missing).");

    /// <summary>A loopback port free right now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static async Task<PrometheusServer> StartAsync(IEnumerable<Target> targets)
    {
        var folder = Directory.CreateTempSubdirectory("batchops-prometheus-").FullName;
        var config = new System.Text.StringBuilder("global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n");
        foreach (var target in targets)
        {
            config.Append($"  - job_name: {target.Job}\n");
            if (target.Token is not null)
            {
                config.Append($"    authorization:\n      credentials: {target.Token}\n");
            }

            config.Append($"    static_configs:\n      - targets: ['{target.Address}']\n");
        }

        File.WriteAllText(Path.Combine(folder, "prometheus.yml"), config.ToString());
        var port = FreePort();
        var start = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            $"--config.file={Path.Combine(folder, "prometheus.yml")}", $"--storage.tsdb.path={Path.Combine(folder, "data")}",
            $"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
        })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new PrometheusServer(process, folder, port);
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if ((await server._client.GetAsync("/-/ready")).IsSuccessStatusCode)
                {
                    return server;
                }
            }
            catch (HttpRequestException)
            {
            }

            if (process.HasExited || deadline.Elapsed > TimeSpan.FromSeconds(60))
            {
                server.Dispose();
                throw new InvalidOperationException($"Prometheus did not become ready (exited: {process.HasExited}).");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>An instant PromQL query: each series' labels and value.</summary>
    public async Task<List<(Dictionary<string, string> Labels, double Value)>> QueryAsync(string promql)
    {
        using var response = await _client.GetAsync($"/api/v1/query?query={Uri.EscapeDataString(promql)}");
        response.EnsureSuccessStatusCode();
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var data = document.RootElement.GetProperty("data");
        return [.. data.GetProperty("result").EnumerateArray().Select(series => (
            series.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!),
            double.Parse(series.GetProperty("value")[1].GetString()!, System.Globalization.CultureInfo.InvariantCulture)))];
    }

    /// <summary>Queries until <paramref name="until"/> holds for the result, within <paramref name="limit"/>.</summary>
    public async Task<List<(Dictionary<string, string> Labels, double Value)>> QueryUntilAsync(string promql, Func<List<(Dictionary<string, string> Labels, double Value)>, bool> until, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var result = await QueryAsync(promql);
            if (until(result))
            {
                return result;
            }

            if (clock.Elapsed > limit)
            {
                var targets = await _client.GetStringAsync("/api/v1/targets");
                throw new Xunit.Sdk.XunitException($"'{promql}' never got there within {limit}: {string.Join("; ", result.Select(r => $"{string.Join(",", r.Labels.Select(l => $"{l.Key}={l.Value}"))} = {r.Value}"))}\ntargets: {targets}");
            }

            await Task.Delay(500);
        }
    }

    public void Dispose()
    {
        _client.Dispose();
        try
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
