using System.Diagnostics;
using System.Net;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using BatchOps.Engine.Workers;
using BatchOps.Postgres;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace BatchOps.Benchmarks;

/// <summary>Workers on a PostgreSQL store: scaling out over processes, and the cost of the shared store per item.</summary>
public sealed partial class Scenarios
{
    /// <summary>
    /// Items that each wait 20 ms (an HTTP call to a loopback server that answers after 20 ms), run by
    /// <c>batchops worker</c> processes: two workers against one, each at ThrottleLimit 8. The job's own
    /// clock (first claim to last record) is measured, so process start-up is not.
    /// </summary>
    public async Task<ScenarioResult> WorkersScaleAsync()
    {
        if (await PostgresAsync() is not { } cluster)
        {
            return Skipped("workers-scale");
        }

        var count = Scale(3_000, 600);
        using var server = new DelayServer(TimeSpan.FromMilliseconds(20));
        var one = await WorkerRunAsync(await cluster.CreateDatabaseAsync(), server, count, workers: 1);
        var two = await WorkerRunAsync(await cluster.CreateDatabaseAsync(), server, count, workers: 2);
        var ideal = 8 / 0.020;
        var figures = new Dictionary<string, double> { ["items"] = count, ["throttlePerWorker"] = 8, ["oneWorkerSeconds"] = count / one, ["twoWorkersSeconds"] = count / two, ["oneWorkerOfIdeal"] = one / ideal };
        return Result("workers-scale", "2 worker processes items/s", two, "1 worker process items/s", one, ">= 1.8", 1.8, figures);
    }

    /// <summary>
    /// No-op items at chunk size 100 run by two workers on a PostgreSQL store (claim, read, record and
    /// finish per chunk, all through the database), against one process running the same job on SQLite.
    /// </summary>
    public async Task<ScenarioResult> WorkersNoopAsync()
    {
        if (await PostgresAsync() is not { } cluster)
        {
            return Skipped("workers-noop");
        }

        var count = Scale(100_000, 10_000);
        const int chunk = 100;
        var definition = new JobDefinition { Name = "noop", OperationKind = "noop", Operation = "{}", Settings = new JobSettings { ChunkSize = chunk, ThrottleLimit = Environment.ProcessorCount } };
        var request = new JobRunRequest<int, string?>
        {
            Operation = BatchOperation<int, string?>.PerItem((item, _) => ValueTask.FromResult<string?>(null)),
            InputCodec = IntCodec.Instance,
            OutputCodec = TextPayloadCodec.Instance,
        };

        var db = await cluster.CreateDatabaseAsync();

        // Both sides run a tenth-size job first, so both are measured warm: a worker runs for hours, and
        // the first seconds of a process go to compiling code (a sixth of the CPU of a cold 2-second run).
        await SqliteNoopAsync(definition, request, count / 10, "warm");
        await PostgresNoopAsync(db, definition, request, count / 10);
        var sqlite = await SqliteNoopAsync(definition, request, count, "measured");
        var postgres = await PostgresNoopAsync(db, definition, request, count);
        var figures = new Dictionary<string, double> { ["items"] = count, ["chunkSize"] = chunk, ["workers"] = 2, ["postgresSeconds"] = postgres.TotalSeconds, ["sqliteSeconds"] = sqlite.TotalSeconds };
        return Result("workers-noop", "2 PostgreSQL workers items/s", count / postgres.TotalSeconds, "1 process on SQLite items/s", count / sqlite.TotalSeconds, ">= 0.5", 0.5, figures);
    }

    /// <summary>Runs a no-op job of <paramref name="count"/> items in this process on a new SQLite store; returns its run time.</summary>
    private async Task<TimeSpan> SqliteNoopAsync(JobDefinition definition, JobRunRequest<int, string?> request, int count, string name)
    {
        using var store = SqliteJobStore.Open(Folder($"workers-sqlite-{name}"));
        var runner = new JobRunner(store);
        var job = await runner.CreateAsync(definition, Enumerable.Range(0, count), IntCodec.Instance, "text");
        return await Measure.TimeAsync(async () => await runner.RunAsync(job.Id, request));
    }

    /// <summary>Queues a no-op job of <paramref name="count"/> items and runs it with two workers in this process; returns the time from queueing to the worker's report that it ended the job.</summary>
    private static async Task<TimeSpan> PostgresNoopAsync(string db, JobDefinition definition, JobRunRequest<int, string?> request, int count)
    {
        using var shared = PostgresJobStore.Open(db);
        var queued = await new JobRunner(shared).CreateAsync(definition, Enumerable.Range(0, count), IntCodec.Instance, "text");
        var stores = new[] { PostgresJobStore.Open(db), PostgresJobStore.Open(db) };
        using var stop = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();
        await shared.EnqueueAsync(queued.Id);

        // The end is the worker's own report that it ended the job: polling the store would take the CPU it measures.
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var workers = stores.Select(s =>
        {
            var worker = new JobWorker(s, _ => QueuedJobHandler.Create(request), new WorkerOptions { Kinds = ["noop"], PollInterval = TimeSpan.FromMilliseconds(20) });
            worker.Reported += e =>
            {
                if (e.Kind == WorkerEventKind.JobEnded && e.JobId == queued.Id)
                {
                    done.TrySetResult();
                }
            };
            return worker.RunAsync(stop.Token);
        }).ToArray();
        await done.Task.WaitAsync(TimeSpan.FromMinutes(5));
        var elapsed = clock.Elapsed;
        var ended = (await shared.GetJobAsync(queued.Id))!;
        await stop.CancelAsync();
        await Task.WhenAll(workers);
        foreach (var store in stores)
        {
            store.Dispose();
        }

        return ended.Counts.Succeeded == count ? elapsed : throw new InvalidOperationException($"workers recorded {ended.Counts.Succeeded} of {count} items");
    }

    /// <summary>Submits a job of <paramref name="count"/> 20 ms items, runs it with <paramref name="workers"/> worker processes; returns items/s on the job's clock.</summary>
    private async Task<double> WorkerRunAsync(string db, DelayServer server, int count, int workers)
    {
        var spec = Path.Combine(Folder($"workers-{workers}"), "spec.json");
        var items = string.Join(", ", Enumerable.Range(0, count).Select(n => $"{{ \"n\": {n} }}"));
        await File.WriteAllTextAsync(spec, $$"""
            { "name": "wait", "items": [{{items}}], "operation": { "kind": "http", "url": "{{server.Url}}{n}" },
              "settings": { "chunkSize": 20, "throttleLimit": 8 } }
            """);
        var home = Folder($"workers-home-{workers}");
        var submit = Cli(db, home, "submit", spec, "--json");
        var output = await submit.StandardOutput.ReadToEndAsync();
        await submit.WaitForExitAsync();
        if (submit.ExitCode != 0)
        {
            throw new InvalidOperationException($"batchops submit failed: {output}{await submit.StandardError.ReadToEndAsync()}");
        }

        var id = System.Text.Json.JsonDocument.Parse(output).RootElement.GetProperty("id").GetString()!;
        var processes = Enumerable.Range(0, workers).Select(i => Cli(db, home, "worker", "--name", $"w{i}")).ToList();
        try
        {
            using var store = PostgresJobStore.Open(db);
            var clock = Stopwatch.StartNew();
            JobRecord job;
            while ((job = (await store.GetJobAsync(id))!).Status is JobStatus.Queued or JobStatus.Running)
            {
                if (clock.Elapsed > TimeSpan.FromMinutes(5))
                {
                    throw new TimeoutException($"workers did not finish job {id}: {job.Counts.Succeeded} of {count}");
                }

                await Task.Delay(20);
            }

            if (job.Counts.Succeeded != count)
            {
                throw new InvalidOperationException($"workers recorded {job.Counts.Succeeded} of {count} items ({job.Status}: {job.Message})");
            }

            return count / job.Duration!.Value.TotalSeconds;
        }
        finally
        {
            foreach (var process in processes)
            {
                process.Kill();
                await process.WaitForExitAsync();
                process.Dispose();
            }
        }
    }

    private static Process Cli(string store, string home, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in (string[])["exec", CliDll(), .. args, "--store", store])
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["BATCHOPS_HOME"] = home;
        var process = Process.Start(start)!;
        if (args[0] == "worker")
        {
            // Nobody reads a worker's lines: drain them so it never blocks on a full pipe.
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        return process;
    }

    /// <summary>
    /// A loopback HTTP server (Kestrel) that answers every request after a fixed delay. Kestrel sends with
    /// Nagle off, as production servers do: HttpListener on Linux sends the headers and the body in two
    /// writes, and the second waited for the client's delayed ACK, adding ~40 ms to every 20 ms item.
    /// </summary>
    private sealed class DelayServer : IDisposable
    {
        private readonly WebApplication _app;

        public DelayServer(TimeSpan delay)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
            _app = builder.Build();
            _app.MapGet("/{n}", async () =>
            {
                await Task.Delay(delay);
                return "ok";
            });
            _app.StartAsync().GetAwaiter().GetResult();
            Url = _app.Urls.Single().Replace("[::1]", "127.0.0.1", StringComparison.Ordinal).TrimEnd('/') + "/";
        }

        public string Url { get; }

        public void Dispose() => _app.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }
}
