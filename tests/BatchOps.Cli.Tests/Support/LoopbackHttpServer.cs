using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace BatchOps.Cli.Tests.Support;

/// <summary>
/// A real HTTP server on 127.0.0.1 for tests. Paths: /ok/N answers 200 "ok N"; /limited/N answers 429 with
/// Retry-After: 1 the first time, then 200; /flaky/N answers 500 the first time, then 200; /missing/N 404;
/// /slow/N waits 10 s; /wait/N/MS waits MS milliseconds, then 200 "ok N". Every request is counted per path and timed.
/// </summary>
public sealed class LoopbackHttpServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public LoopbackHttpServer()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public int Port { get; }

    public string BaseUrl => $"http://127.0.0.1:{Port}";

    public ConcurrentDictionary<string, int> Hits { get; } = new();

    public ConcurrentDictionary<string, List<DateTime>> Times { get; } = new();

    public ConcurrentQueue<string> Bodies { get; } = new();

    /// <summary>The Idempotency-Key header of every request, per path, in arrival order (null when absent).</summary>
    public ConcurrentDictionary<string, ConcurrentQueue<string?>> IdempotencyKeys { get; } = new();

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (HttpListenerException)
            {
                return;
            }

            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        var path = context.Request.Url!.AbsolutePath;
        IdempotencyKeys.GetOrAdd(path, _ => new()).Enqueue(context.Request.Headers["Idempotency-Key"]);
        var hit = Hits.AddOrUpdate(path, 1, (_, n) => n + 1);
        var times = Times.GetOrAdd(path, _ => []);
        lock (times)
        {
            times.Add(DateTime.UtcNow);
        }
        using (var reader = new StreamReader(context.Request.InputStream))
        {
            var body = await reader.ReadToEndAsync();
            if (body.Length > 0)
            {
                Bodies.Enqueue(body);
            }
        }

        var response = context.Response;
        var (status, text) = path.Split('/', StringSplitOptions.RemoveEmptyEntries) switch
        {
            ["ok", var n] => (200, $"ok {n}"),
            ["limited", var n] when hit == 1 => (429, $"slow down {n}"),
            ["limited", var n] => (200, $"ok {n}"),
            ["flaky", var n] when hit == 1 => (500, $"broken {n}"),
            ["flaky", var n] => (200, $"ok {n}"),
            ["missing", var n] => (404, $"no {n}"),
            ["slow", var n] => (200, await Slow(n)),
            ["wait", var n, var ms] => (200, await Wait(n, ms)),
            _ => (400, "unknown path"),
        };
        if (status == 429)
        {
            response.AddHeader("Retry-After", "1");
        }

        response.StatusCode = status;
        var bytes = Encoding.UTF8.GetBytes(text);
        try
        {
            await response.OutputStream.WriteAsync(bytes);
            response.Close();
        }
        catch (Exception error) when (error is HttpListenerException or ObjectDisposedException or IOException)
        {
            // The client gave up (a timeout test); nothing to answer.
        }
    }

    private async Task<string> Wait(string n, string ms)
    {
        await Task.Delay(int.Parse(ms, System.Globalization.CultureInfo.InvariantCulture), _stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
        return $"ok {n}";
    }

    private async Task<string> Slow(string n)
    {
        await Task.Delay(TimeSpan.FromSeconds(10), _stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
        return $"late {n}";
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Close();
        _stop.Dispose();
    }
}
