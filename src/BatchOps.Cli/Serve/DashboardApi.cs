using System.Text.Json;
using BatchOps.Operations.Spec;
using BatchOps.Engine.Config;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using BatchOps.Engine.Workers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace BatchOps.Cli.Serve;

/// <summary>
/// The REST API over a job store (the same store the cmdlets and batchops use, so jobs of other processes
/// show up as they run): jobs with filters and paging, one job, its items (paged, by status), an item's
/// history, and statistics. JSON with the store's conventions (camelCase, enums as names); errors as
/// problem+json naming the field.
/// </summary>
public static class DashboardApi
{
    /// <summary>The most jobs or items one page returns.</summary>
    public const int MaxLimit = 500;

    private const int DefaultLimit = 50;

    /// <summary>How often an event stream looks at the store: at most this many events per job per second, twice over.</summary>
    private static readonly TimeSpan EventInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>How long an idle event stream waits before a comment line that keeps proxies from closing it.</summary>
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);

    /// <summary>The API's JSON: camelCase, enums by name, nulls left out.</summary>
    internal static JsonSerializerOptions Json { get; } = CreateJson();

    /// <summary>Builds the server (not started) over <paramref name="store"/>; <paramref name="logFolder"/> holds the jobs' logs (removed with a job).</summary>
    /// <param name="settings">The settings file layered under posted specs' settings, as for batchops run.</param>
    public static WebApplication Build(IJobStore store, ServeOptions options, string? logFolder = null, SettingsFile? settings = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(options.Urls);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = ServeOptions.MaxBodyBytes);
        builder.Logging.ClearProviders();
        builder.Services.AddProblemDetails();
        builder.Services.AddOpenApi();
        builder.Services.AddSingleton(_ => new ServerRuns(store, logFolder));
        builder.Services.Configure<JsonOptions>(json => Configure(json.SerializerOptions));
        Telemetry.PrometheusEndpoint.AddTo(builder);
        var app = builder.Build();
        var guard = new ApiGuard(options);
        app.Use(guard.InvokeAsync);
        app.MapOpenApi();
        DashboardPage.Map(app);
        var api = app.MapGroup("/api");
        // The guard has checked the bearer token by now; the page keeps it as an HttpOnly cookie instead of in script.
        api.MapPost("/session", (HttpContext context) =>
        {
            if (options.Token is not null)
            {
                ApiGuard.SetCookie(context, options.Token);
            }

            return Results.NoContent();
        }).ExcludeFromDescription();
        Map(api, store, settings ?? SettingsFile.Empty);
        MapChanges(api, store, logFolder);
        MapRuns(api, store, logFolder, settings ?? SettingsFile.Empty);
        // BatchOps' metrics for Prometheus, behind the same Host and token checks as the API.
        Telemetry.PrometheusEndpoint.MapOn(app);
        return app;
    }

    private static JsonSerializerOptions CreateJson()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        Configure(options);
        return options;
    }

    private static void Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull;
        options.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter());
    }

    /// <summary>GET /api/events: Server-Sent Events (status, progress, removed) until the client goes away.</summary>
    private static async Task StreamEventsAsync(IJobStore store, HttpContext context, CancellationToken cancel)
    {
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        var events = new JobEvents(store, TimeProvider.System);
        var quiet = TimeSpan.Zero;

        // A stopping server ends the stream rather than waiting for the client to leave.
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancel, context.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping);
        cancel = stopping.Token;
        try
        {
            await response.WriteAsync(": batchops job events\n\n", cancel).ConfigureAwait(false);
            await response.Body.FlushAsync(cancel).ConfigureAwait(false);
            while (true)
            {
                var batch = await events.PollAsync(cancel).ConfigureAwait(false);
                foreach (var e in batch)
                {
                    await response.WriteAsync($"event: {e.Name}\ndata: {JsonSerializer.Serialize(e.Data, e.Data.GetType(), Json)}\n\n", cancel).ConfigureAwait(false);
                }

                quiet = batch.Count > 0 ? TimeSpan.Zero : quiet + EventInterval;
                if (quiet >= KeepAlive)
                {
                    await response.WriteAsync(": keep-alive\n\n", cancel).ConfigureAwait(false);
                    quiet = TimeSpan.Zero;
                }

                await response.Body.FlushAsync(cancel).ConfigureAwait(false);
                await Task.Delay(EventInterval, cancel).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            // The client went away, or the server is stopping.
        }
    }

    private static void Map(RouteGroupBuilder api, IJobStore store, SettingsFile settings)
    {
        api.MapGet("/jobs", async (string? status, string? name, string? tag, string? limit, string? offset, CancellationToken cancel) =>
        {
            if (Page(limit, offset) is not { } page)
            {
                return PageProblem(limit);
            }

            if (!TryStatuses<JobStatus>(status, out var statuses))
            {
                return Problems.BadField("status", $"'{status}' is not a job status; use one or more of {string.Join(", ", Enum.GetNames<JobStatus>())}, separated by commas.");
            }

            // The store filters and pages (newest first); a page of a long history reads only that page.
            var query = new JobQuery { Name = name, Tag = tag, Statuses = statuses, Skip = page.Offset, Newest = page.Limit };
            var jobs = await store.FindJobsAsync(query, cancel).ConfigureAwait(false);
            var total = await store.CountJobsAsync(query, cancel).ConfigureAwait(false);
            return Results.Ok(new { jobs = jobs.Select(JobView.Of), total });
        });

        api.MapGet("/jobs/{id}", async (string id, CancellationToken cancel) =>
            await store.GetJobAsync(id, cancel).ConfigureAwait(false) is { } job ? Results.Ok(await JobView.DetailedAsync(store, job, cancel).ConfigureAwait(false)) : NoJob(id));

        // What a queued job waits for, when no running worker takes it (a shared store; none on one machine's).
        api.MapGet("/jobs/{id}/waiting", async (string id, CancellationToken cancel) =>
        {
            if (await store.GetJobAsync(id, cancel).ConfigureAwait(false) is not { } job)
            {
                return NoJob(id);
            }

            if (store is not IWorkQueue queue || !job.Queued)
            {
                return Results.Ok(new { waiting = Array.Empty<object>() });
            }

            var workers = await queue.ListWorkersAsync(cancel).ConfigureAwait(false);
            var waiting = await WaitingWork.FindAsync(queue, store, workers, job.Id, cancel).ConfigureAwait(false);
            return Results.Ok(new { waiting = waiting.Select(WaitingView.Of) });
        });

        // A finished job's throughput, from its items' recorded end times (a spread sample of a large job's).
        api.MapGet("/jobs/{id}/throughput", async (string id, CancellationToken cancel) =>
        {
            if (await store.GetJobAsync(id, cancel).ConfigureAwait(false) is not { } job)
            {
                return NoJob(id);
            }

            return Results.Ok(await Throughput.ReadAsync(store, job, cancel).ConfigureAwait(false));
        });

        api.MapGet("/jobs/{id}/items", async (string id, string? status, string? limit, string? offset, CancellationToken cancel) =>
        {
            if (Page(limit, offset) is not { } page)
            {
                return PageProblem(limit);
            }

            if (!TryStatuses<ItemStatus>(status, out var statuses))
            {
                return Problems.BadField("status", $"'{status}' is not an item status; use one or more of {string.Join(", ", Enum.GetNames<ItemStatus>())}, separated by commas.");
            }

            if (await store.GetJobAsync(id, cancel).ConfigureAwait(false) is not { } job)
            {
                return NoJob(id);
            }

            List<StoredItem> items;
            long total;
            if (statuses is null)
            {
                // Indexes run 0..total-1: a page is a range of them, read by index.
                total = job.Counts.Total;
                var indexes = Enumerable.Range(0, (int)Math.Max(0, Math.Min(page.Limit, total - page.Offset))).Select(i => page.Offset + (long)i).ToList();
                items = indexes.Count == 0 ? [] : await store.GetItemsAsync(id, new ItemQuery { Indexes = indexes }, cancel).ToListAsync(cancel).ConfigureAwait(false);
            }
            else
            {
                total = statuses.Sum(job.Counts.Of);
                items = await store.GetItemsAsync(id, new ItemQuery { Statuses = statuses }, cancel).Skip(page.Offset).Take(page.Limit).ToListAsync(cancel).ConfigureAwait(false);
            }

            return Results.Ok(new { items = items.Select(i => ItemView.Of(i, job)), total });
        });

        api.MapGet("/jobs/{id}/items/{index}/history", async (string id, string index, CancellationToken cancel) =>
        {
            if (!long.TryParse(index, out var at) || at < 0)
            {
                return Problems.BadField("index", $"'{index}' is not an item index (a whole number from 0).");
            }

            if (await store.GetJobAsync(id, cancel).ConfigureAwait(false) is not { } job)
            {
                return NoJob(id);
            }

            if (at >= job.Counts.Total)
            {
                return Problems.NotFound($"Job '{id}' has {job.Counts.Total} item(s); there is no item {at}.");
            }

            var history = await store.GetItemHistoryAsync(id, at, cancel).ConfigureAwait(false);
            var retries = await store.GetItemRetriesAsync(id, at, cancel).ConfigureAwait(false);
            return Results.Ok(new
            {
                index = at,
                runs = history.Select(h => new { run = h.Run, status = h.Status, attempts = h.Attempts, error = h.Error is { } e ? new { type = e.Type, message = e.Message } : null, endedAt = h.EndedAt }),
                retries = retries.Select(r => new { run = r.Run, attempt = r.Attempt, errorType = r.ErrorType, statusCode = r.StatusCode, message = r.Message, delayMs = r.Delay.TotalMilliseconds, at = r.At }),
            });
        });

        api.MapGet("/events", (HttpContext context, CancellationToken cancel) => StreamEventsAsync(store, context, cancel));

        api.MapGet("/statistics", async (CancellationToken cancel) =>
        {
            var s = await store.GetStatisticsAsync(cancel).ConfigureAwait(false);
            return Results.Ok(new
            {
                jobs = s.Jobs,
                byStatus = s.ByStatus.ToDictionary(p => p.Key.ToString(), p => p.Value),
                byTag = s.ByTag,
                items = CountsView.Of(s.Items),
                active = s.Active.Select(JobView.Of),
                recent = s.Recent.Select(JobView.Of),
                averageDurationSeconds = s.AverageDuration?.TotalSeconds,
                itemsPerSecond = s.ItemsPerSecond,
                storeBytes = s.StoreBytes,
                bytesPerItem = s.BytesPerItem,
                retention = settings.Retention.Ages.Count == 0 ? null : settings.Retention.Ages.ToDictionary(a => a.Key.ToString(), a => a.Value.TotalDays),
                retentionNext = (await settings.Retention.NextAsync(store, 5, cancel).ConfigureAwait(false)).Select(n => new { id = n.Job.Id, name = n.Job.Name, status = n.Job.Status.ToString(), due = n.Due }),
            });
        });

        // The workers of a shared (PostgreSQL) store; a SQLite store has none, and says so.
        api.MapGet("/workers", async (CancellationToken cancel) =>
        {
            if (store is not IWorkQueue queue)
            {
                return Results.Ok(new { shared = false, workers = Array.Empty<object>(), waiting = Array.Empty<object>() });
            }

            var workers = await queue.ListWorkersAsync(cancel).ConfigureAwait(false);
            var waiting = await WaitingWork.FindAsync(queue, store, workers, cancellationToken: cancel).ConfigureAwait(false);
            return Results.Ok(new
            {
                shared = true,
                waiting = waiting.Select(WaitingView.Of),
                workers = workers.Select(w => new
                {
                    id = w.Id,
                    name = w.Name,
                    host = w.Host,
                    processId = w.ProcessId,
                    state = w.State.ToString(),
                    chunksHeld = w.ChunksHeld,
                    chunksRecorded = w.ChunksRecorded,
                    jobs = w.Jobs,
                    kinds = w.Kinds,
                    concurrency = w.Concurrency,
                    leaseSeconds = w.Lease.TotalSeconds,
                    startedAt = w.StartedAt,
                    seenAt = w.SeenAt,
                }),
            });
        });
    }

    /// <summary>The routes that change jobs; each acts on other processes' jobs only through the store's stop request.</summary>
    private static void MapChanges(RouteGroupBuilder api, IJobStore store, string? logFolder)
    {
        api.MapPost("/jobs/{id}/cancel", async (string id, HttpRequest request, CancellationToken cancel) =>
        {
            if (await store.GetJobAsync(id, cancel).ConfigureAwait(false) is not { } job)
            {
                return NoJob(id);
            }

            var force = false;
            if (request.ContentLength is > 0)
            {
                try
                {
                    using var body = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancel).ConfigureAwait(false);
                    if (body.RootElement.ValueKind == JsonValueKind.Object && body.RootElement.TryGetProperty("force", out var value))
                    {
                        force = value.ValueKind is JsonValueKind.True or JsonValueKind.False
                            ? value.GetBoolean()
                            : throw new JsonException("force must be true or false");
                    }
                }
                catch (JsonException error)
                {
                    return Problems.BadField("force", $"The body must be a JSON object like {{ \"force\": false }} ({error.Message}).");
                }
            }

            var outcome = await JobControl.StopAsync(store, job, force ? StopMode.Forced : StopMode.Graceful, cancel).ConfigureAwait(false);
            return Results.Accepted($"/api/jobs/{id}", new { id, outcome });
        });

        api.MapDelete("/jobs/{id}", async (string id, CancellationToken cancel) =>
        {
            if (await store.GetJobAsync(id, cancel).ConfigureAwait(false) is not { } job)
            {
                return NoJob(id);
            }

            return await JobControl.RemoveAsync(store, job, logFolder, cancel).ConfigureAwait(false)
                ? Results.NoContent()
                : Results.Problem(new Microsoft.AspNetCore.Mvc.ProblemDetails
                {
                    Status = StatusCodes.Status409Conflict,
                    Title = "The job is running",
                    Detail = $"Job '{job.Name}' ({job.Id}) is running in process {job.Lease?.ProcessId} on {job.Lease?.Host}; cancel it first (POST /api/jobs/{id}/cancel).",
                });
        });

        api.MapGet("/jobs/{id}/export", async (string id, string? format, HttpContext context, CancellationToken cancel) =>
        {
            if (format is not ("json" or "csv" or null))
            {
                return Problems.BadField("format", $"'{format}' is not an export format; use json or csv.");
            }

            if (await store.GetJobAsync(id, cancel).ConfigureAwait(false) is not { } job)
            {
                return NoJob(id);
            }

            var response = context.Response;
            response.Headers.ContentDisposition = $"attachment; filename=\"{job.Id}.{format ?? "json"}\"";
            if (format == "csv")
            {
                response.ContentType = "text/csv; charset=utf-8";
                await using var writer = new StreamWriter(response.Body, new System.Text.UTF8Encoding(false), 64 * 1024, leaveOpen: true);
                await Engine.Export.JobExporter.WriteCsvAsync(store, job, writer, cancel).ConfigureAwait(false);
            }
            else
            {
                response.ContentType = "application/json; charset=utf-8";
                await Engine.Export.JobExporter.WriteJsonAsync(store, job, response.Body, cancel).ConfigureAwait(false);
            }

            return Results.Empty;
        });
    }

    /// <summary>The routes that run jobs in this server: a posted spec (as batchops run takes it), resume, retry.</summary>
    private static void MapRuns(RouteGroupBuilder api, IJobStore store, string? logFolder, SettingsFile settings)
    {
        api.MapPost("/jobs", async (HttpRequest request, ServerRuns runs, CancellationToken cancel) =>
        {
            using var reader = new StreamReader(request.Body);
            var text = await reader.ReadToEndAsync(cancel).ConfigureAwait(false);
            LoadedJob loaded;
            try
            {
                loaded = JobSpecLoader.Load(text, "spec", Environment.CurrentDirectory, settings);
            }
            catch (JobSpecException error)
            {
                return Problems.BadField("spec", error.Message);
            }

            var job = await LoadedJobs.CreateAsync(new JobRunner(store, logFolder), loaded, cancel).ConfigureAwait(false);
            runs.TryStart(job, RunKind.Resume, itemsFile: loaded.File);
            return Results.Accepted($"/api/jobs/{job.Id}", new { id = job.Id, status = "Queued", warnings = loaded.Warnings });
        });

        api.MapPost("/jobs/{id}/resume", (string id, ServerRuns runs, CancellationToken cancel) => StartAsync(store, runs, id, RunKind.Resume, null, cancel));

        // Compensates the job's succeeded items with its undo operation, as batchops undo does (the page confirms first).
        api.MapPost("/jobs/{id}/undo", async (string id, ServerRuns runs, CancellationToken cancel) =>
        {
            if (await store.GetJobAsync(id, cancel).ConfigureAwait(false) is not { } job)
            {
                return NoJob(id);
            }

            if (!job.CanUndo)
            {
                return Conflict($"Job '{job.Name}' ({job.Id}) has no undo operation, so nothing can undo its items. Give one in the spec (\"undo\").");
            }

            if (job.Status is JobStatus.Running or JobStatus.Queued)
            {
                return Conflict($"Job '{job.Name}' ({job.Id}) is {job.Status}; wait for it to end, or cancel it first.");
            }

            try
            {
                return runs.TryStart(job, RunKind.Resume, undo: true)
                    ? Results.Accepted($"/api/jobs/{id}", new { id, status = "Queued" })
                    : Conflict($"Job '{job.Name}' ({job.Id}) is already being run by this server.");
            }
            catch (JobSpecException error)
            {
                return Problems.BadField("undo", error.Message);
            }
        });

        api.MapPost("/jobs/{id}/retry", async (string id, HttpRequest request, ServerRuns runs, CancellationToken cancel) =>
        {
            long[]? items = null;
            if (request.ContentLength is > 0)
            {
                try
                {
                    using var body = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancel).ConfigureAwait(false);
                    if (body.RootElement.ValueKind != JsonValueKind.Object)
                    {
                        throw new JsonException("not an object");
                    }

                    if (body.RootElement.TryGetProperty("items", out var list) && list.ValueKind != JsonValueKind.Null)
                    {
                        items = [.. list.EnumerateArray().Select(i => i.GetInt64())];
                    }
                }
                catch (Exception error) when (error is JsonException or InvalidOperationException or FormatException)
                {
                    return Problems.BadField("items", $"The body must be a JSON object like {{ \"items\": null }} or {{ \"items\": [3, 17] }} (item indexes) ({error.Message}).");
                }
            }

            return await StartAsync(store, runs, id, RunKind.RetryFailed, items, cancel).ConfigureAwait(false);
        });
    }

    private static async Task<IResult> StartAsync(IJobStore store, ServerRuns runs, string id, RunKind kind, IReadOnlyCollection<long>? items, CancellationToken cancel)
    {
        if (await store.GetJobAsync(id, cancel).ConfigureAwait(false) is not { } job)
        {
            return NoJob(id);
        }

        if (job.Status == JobStatus.Running)
        {
            return Conflict($"Job '{job.Name}' ({job.Id}) is running in process {job.Lease?.ProcessId} on {job.Lease?.Host}; wait for it, or cancel it first.");
        }

        if (kind == RunKind.RetryFailed && job.Counts.Failed == 0)
        {
            return Conflict($"Job '{job.Name}' ({job.Id}) has no failed items to retry.");
        }

        try
        {
            return runs.TryStart(job, kind, items)
                ? Results.Accepted($"/api/jobs/{id}", new { id, status = "Queued" })
                : Conflict($"Job '{job.Name}' ({job.Id}) is already being run by this server.");
        }
        catch (JobSpecException error)
        {
            return Problems.BadField("operation", error.Message);
        }
    }

    private static IResult Conflict(string detail) =>
        Results.Problem(new Microsoft.AspNetCore.Mvc.ProblemDetails { Status = StatusCodes.Status409Conflict, Title = "Conflict", Detail = detail });

    private static IResult NoJob(string id) => Problems.NotFound($"There is no job '{id}' in this store; list the jobs with GET /api/jobs.");

    private static IResult PageProblem(string? limit) =>
        int.TryParse(limit, out var l) && l is >= 1 and <= MaxLimit || limit is null
            ? Problems.BadField("offset", "offset is the number of entries to skip: a whole number from 0.")
            : Problems.BadField("limit", $"limit is the page size: a whole number from 1 to {MaxLimit} (default {DefaultLimit}).");

    private static (int Limit, int Offset)? Page(string? limit, string? offset)
    {
        var size = DefaultLimit;
        var skip = 0;
        if ((limit is not null && (!int.TryParse(limit, out size) || size is < 1 or > MaxLimit)) || (offset is not null && (!int.TryParse(offset, out skip) || skip < 0)))
        {
            return null;
        }

        return (size, skip);
    }

    private static bool TryStatuses<T>(string? text, out IReadOnlyCollection<T>? statuses)
        where T : struct, Enum
    {
        statuses = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        var parsed = new List<T>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Enum.TryParse<T>(part, ignoreCase: true, out var value) || !Enum.IsDefined(value))
            {
                return false;
            }

            parsed.Add(value);
        }

        statuses = parsed;
        return true;
    }
}
