using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace BatchOps.PowerShell.HostTests.Support;

/// <summary>What the loopback server answers to one request.</summary>
public sealed record Reply(int Status, string Body = "{}", params (string Name, string Value)[] Headers);

/// <summary>
/// A real HTTP server on 127.0.0.1 (HttpListener) that the script blocks under test call with Invoke-RestMethod.
/// <c>respond</c> gets the path and how many times that path was asked for (1 for the first request); every
/// request is counted and timed per path, so tests assert on what the server saw.
/// </summary>
public sealed class LoopbackServer : IDisposable
{
    private readonly HttpListener _listener;
    private readonly Func<string, int, Reply> _respond;
    private readonly ConcurrentDictionary<string, ConcurrentQueue<DateTimeOffset>> _hits = new(StringComparer.Ordinal);
    private readonly Task _serving;

    public LoopbackServer(Func<string, int, Reply> respond)
    {
        _respond = respond;
        (_listener, Url) = Listen();
        _serving = Task.Run(ServeAsync);
    }

    /// <summary>The base address, without a trailing slash: http://127.0.0.1:PORT.</summary>
    public string Url { get; }

    /// <summary>When each request for <paramref name="path"/> arrived, in order.</summary>
    public IReadOnlyList<DateTimeOffset> Hits(string path) => _hits.TryGetValue(path, out var times) ? [.. times] : [];

    /// <summary>A loopback address where nothing listens (a port just released), for connection-refused cases.</summary>
    public static string UnusedUrl()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return $"http://127.0.0.1:{port}";
    }

    private static (HttpListener, string) Listen()
    {
        for (var attempt = 1; ; attempt++)
        {
            var url = UnusedUrl();
            var listener = new HttpListener();
            listener.Prefixes.Add(url + "/");
            try
            {
                listener.Start();
                return (listener, url);
            }
            catch (HttpListenerException) when (attempt < 5)
            {
                // Another process took the port between the probe and the bind: take another.
                listener.Close();
            }
        }
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception error) when (error is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            var path = context.Request.Url!.AbsolutePath;
            var times = _hits.GetOrAdd(path, _ => new ConcurrentQueue<DateTimeOffset>());
            int count;
            lock (times)
            {
                times.Enqueue(DateTimeOffset.UtcNow);
                count = times.Count;
            }

            var reply = _respond(path, count);
            context.Response.StatusCode = reply.Status;
            context.Response.ContentType = "application/json";
            foreach (var (name, value) in reply.Headers)
            {
                context.Response.AddHeader(name, value);
            }

            var body = Encoding.UTF8.GetBytes(reply.Body);
            await context.Response.OutputStream.WriteAsync(body).ConfigureAwait(false);
            context.Response.Close();
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        _serving.Wait(TimeSpan.FromSeconds(10));
    }
}
