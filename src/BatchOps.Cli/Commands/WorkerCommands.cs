using System.CommandLine;
using BatchOps.Operations;
using BatchOps.Operations.Spec;
using BatchOps.Engine.Store;
using BatchOps.Engine.Workers;

namespace BatchOps.Cli.Commands;

/// <summary>batchops submit and batchops worker: jobs queued in a PostgreSQL store, run by workers on any host.</summary>
internal static class WorkerCommands
{
    /// <summary>The kinds batchops runs; script-block jobs are run by Start-BatchWorker in PowerShell.</summary>
    private static readonly string[] OwnKinds = ["exec", "http", "sql"];

    public static Command Submit(GlobalOptions global)
    {
        var spec = new Argument<string>("spec") { Description = "The job spec file (JSON), as for 'batchops run'." };
        var command = new Command("submit", "Create a job from a spec file and queue it for workers ('batchops worker') instead of running it here. Needs a PostgreSQL store (--store, BATCHOPS_STORE).") { spec, global.Json };
        command.SetAction(async (parse, _) =>
        {
            using var session = global.Open(parse);
            var queue = QueueOf(session);
            var loaded = JobSpecLoader.Load(parse.GetValue(spec)!, session.LoadSettings());
            session.WarnAbout(loaded);
            var job = await LoadedJobs.CreateAsync(session.CreateRunner(), loaded, session.Interrupt).ConfigureAwait(false);
            await queue.EnqueueAsync(job.Id, session.Interrupt).ConfigureAwait(false);

            Report(session, (await session.Store.GetJobAsync(job.Id, session.Interrupt).ConfigureAwait(false))!, parse.GetValue(global.Json));
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command Worker(GlobalOptions global)
    {
        var concurrency = new Option<int>("--concurrency") { Description = "Jobs run at once (a job's items run at most ThrottleLimit at a time in each worker). Default 1.", DefaultValueFactory = _ => 1 };
        var kinds = new Option<string>("--kinds") { Description = "Operation kinds to run, comma-separated. Default exec,http,sql.", DefaultValueFactory = _ => string.Join(',', OwnKinds) };
        var name = new Option<string?>("--name") { Description = "The worker's name in claims and logs. Default host:pid." };
        var lease = new Option<double>("--lease") { Description = "Seconds a claimed chunk stays this worker's without a heartbeat; after that another worker takes it over. Default 30.", DefaultValueFactory = _ => 30 };
        var drain = new Option<double>("--drain-timeout") { Description = "On Ctrl+C or SIGTERM, seconds to let the chunks in hand finish before giving them back unrecorded. Default 30.", DefaultValueFactory = _ => 30 };
        var metricsUrls = new Option<string?>("--metrics-urls") { Description = "Serve the worker's metrics for Prometheus at /metrics on these URLs (semicolon-separated, for example http://127.0.0.1:9464). No token: bind them to loopback or a monitoring network." };
        var command = new Command("worker", "Run queued jobs' chunks until stopped (Ctrl+C, SIGTERM): claims chunks from the PostgreSQL store with a lease kept by a heartbeat; a chunk of a worker that died is taken over when its lease expires.")
        {
            concurrency, kinds, name, lease, drain, metricsUrls,
        };
        command.SetAction(async (parse, _) =>
        {
            using var session = global.Open(parse);
            var chosen = parse.GetValue(kinds)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (chosen.FirstOrDefault(k => !OwnKinds.Contains(k, StringComparer.Ordinal)) is { } unknown)
            {
                throw new FormatException($"--kinds: batchops runs {string.Join(", ", OwnKinds)}, not '{unknown}' (script-block jobs are run by Start-BatchWorker in PowerShell).");
            }

            var options = new WorkerOptions
            {
                Name = parse.GetValue(name),
                Concurrency = parse.GetValue(concurrency),
                Kinds = chosen,
                Lease = TimeSpan.FromSeconds(parse.GetValue(lease)),
                LogFolder = StoreLocation.LogFolder(session.StoreFolder),
            };
            options.Validate();
            // One compiled operation per job (its HTTP client and connections, its SQL table), built at its first chunk.
            var handlers = new System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<QueuedJobHandler>>();
            var worker = new JobWorker(session.Store, job => handlers.GetOrAdd(job.Id, _ => new(() => QueuedJobHandler.Create(LoadedJobs.Request(job, leaveScriptBlocks: true)))).Value, options);
            var output = TextWriter.Synchronized(session.Out);
            worker.Reported += e => output.WriteLine(e.ToString());
            await using var metrics = parse.GetValue(metricsUrls) is { Length: > 0 } urls
                ? await Telemetry.PrometheusEndpoint.StartAsync(urls, session.Interrupt).ConfigureAwait(false)
                : null;
            output.WriteLine($"Worker {worker.Identity.Name} on {session.Store.Location}: kinds {string.Join(", ", chosen)}, concurrency {options.Concurrency}, lease {options.Lease.TotalSeconds:0.#} s. Ctrl+C to stop.");
            if (metrics is not null)
            {
                output.WriteLine($"Metrics for Prometheus: {string.Join(", ", metrics.Urls.Select(u => u.TrimEnd('/') + Telemetry.PrometheusEndpoint.Path))}");
            }

            using var abandon = new CancellationTokenSource();
            using var onStop = session.Interrupt.Register(() => abandon.CancelAfter(TimeSpan.FromSeconds(parse.GetValue(drain))));
            var retention = RetentionRuns.RunAsync(session, session.LoadSettings().Retention, output, session.Interrupt);
            await worker.RunAsync(session.Interrupt, abandon.Token).ConfigureAwait(false);
            await retention.ConfigureAwait(false);
            output.WriteLine($"Worker {worker.Identity.Name} stopped.");
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command Workers(GlobalOptions global)
    {
        var command = new Command("workers", "List the workers of a PostgreSQL store: name, host, process, Idle/Busy/Stopping/Missing, chunks held and recorded, last seen. A worker not seen for longer than its lease is Missing; it stays listed for a day. Below the list, a Waiting line names each queued job that no running worker takes (its chunks' kind, or the undo kinds its rollback needs) and which worker to start. 'batchops workers stop NAME' asks workers to stop.") { global.Json };
        command.SetAction(async (parse, _) =>
        {
            using var session = global.Open(parse);
            var queue = QueueOf(session);
            var workers = await queue.ListWorkersAsync(session.Interrupt).ConfigureAwait(false);
            Output.Printer.JsonOr(session.Out, parse.GetValue(global.Json), workers, Output.Printer.WorkerTable);
            if (!parse.GetValue(global.Json))
            {
                // Below the list: queued work that none of them takes (a kind no running worker runs).
                foreach (var waiting in await WaitingWork.FindAsync(queue, session.Store, workers, cancellationToken: session.Interrupt).ConfigureAwait(false))
                {
                    session.Out.WriteLine($"Waiting: {TerminalText.Escape(waiting.Message)}");
                }
            }

            return ExitCodes.Success;
        });
        command.Subcommands.Add(StopWorkers(global));
        return command;
    }

    /// <summary>batchops workers stop NAME…: asks running workers, on any host, to stop through the store.</summary>
    private static Command StopWorkers(GlobalOptions global)
    {
        var names = new Argument<string[]>("name") { Description = "Worker names or ids, as 'batchops workers' lists them; * and ? wildcards allowed.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("stop", "Ask running workers to stop, from any host: each hears it within a few seconds (its next presence beat), claims nothing more, finishes the chunks it holds and exits. Listed as Stopping meanwhile.") { names, global.Json };
        command.SetAction(async (parse, _) =>
        {
            using var session = global.Open(parse);
            var queue = QueueOf(session);
            var asked = parse.GetValue(names)!;
            var workers = await queue.ListWorkersAsync(session.Interrupt).ConfigureAwait(false);
            var matched = workers.Where(w => asked.Any(n => Matches(n, w))).ToList();
            foreach (var missing in matched.Where(w => w.State == WorkerState.Missing))
            {
                session.Error.WriteLine($"batchops: {WorkerStop.MissingMessage(missing)}");
            }

            if (matched.All(w => w.State == WorkerState.Missing))
            {
                throw new StoreException(matched.Count > 0
                    ? $"No running worker matches {string.Join(", ", asked.Select(n => $"'{n}'"))} in {session.Store.Location}."
                    : $"No worker matches {string.Join(", ", asked.Select(n => $"'{n}'"))} in {session.Store.Location}. List them with: batchops workers");
            }

            var stopping = await WorkerStop.AskAsync(queue, matched, session.Interrupt).ConfigureAwait(false);
            if (parse.GetValue(global.Json))
            {
                Output.Printer.Json(session.Out, stopping);
                return ExitCodes.Success;
            }

            foreach (var worker in stopping)
            {
                session.Out.WriteLine($"Asked worker '{worker.Name}' (host {worker.Host}, process {worker.ProcessId}) to stop: " +
                    (worker.ChunksHeld == 0 ? "it holds no chunk, and exits within a few seconds." : $"it finishes the {worker.ChunksHeld} chunk(s) it holds, then exits."));
            }

            session.Out.WriteLine("Follow them with: batchops workers");
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>A name or id, with * and ? wildcards, matched as Get-BatchWorker matches (case-insensitive).</summary>
    private static bool Matches(string pattern, WorkerInfo worker) =>
        string.Equals(pattern, worker.Id, StringComparison.Ordinal) ||
        System.IO.Enumeration.FileSystemName.MatchesSimpleExpression(pattern, worker.Name, ignoreCase: true);

    /// <summary>batchops resume --queue: queues the unfinished items of a stored job for workers.</summary>
    public static async Task<int> QueueAsync(CliSession session, string idOrName, bool json)
    {
        var queue = QueueOf(session);
        var job = await session.ResolveJobAsync(idOrName).ConfigureAwait(false);
        await queue.EnqueueAsync(job.Id, session.Interrupt).ConfigureAwait(false);
        Report(session, (await session.Store.GetJobAsync(job.Id, session.Interrupt).ConfigureAwait(false))!, json);
        return ExitCodes.Success;
    }

    private static void Report(CliSession session, JobRecord queued, bool json)
    {
        if (json)
        {
            Output.Printer.Json(session.Out, queued);
            return;
        }

        session.Out.WriteLine($"Queued job '{queued.Name}' ({queued.Id}): {queued.Counts.Unfinished} item(s) to run, in {session.Store.Location}.");
        session.Out.WriteLine($"  Workers run it: batchops worker (kind {queued.OperationKind}). Follow it with: batchops show {queued.Id}");
    }

    private static IWorkQueue QueueOf(CliSession session) => session.Store as IWorkQueue ?? throw new StoreException(
        $"The job store '{session.Store.Location}' cannot queue jobs for workers: it is one machine's SQLite file. Point --store (or BATCHOPS_STORE) at a PostgreSQL database: postgresql://user@host/database, or env:NAME.");
}
