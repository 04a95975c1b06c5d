using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace BatchOps.Testing;

/// <summary>
/// A real Kestrel server on 127.0.0.1 that answers 200 to everything and keeps what it parsed from each
/// request: the raw request target as sent, its query and form fields as ASP.NET Core reads them, every
/// header, and the body. Tests compare what arrived with what the items held. Kestrel refuses a request
/// whose path holds %00, and its form reader a form value with one (400, nothing recorded).
/// </summary>
public sealed class RecordingServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private RecordingServer(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = string.Empty;

    public ConcurrentQueue<Received> Requests { get; } = new();

    /// <summary>What one request looked like to the server.</summary>
    public sealed record Received(string Method, string RawTarget, IReadOnlyDictionary<string, string[]> Query, IReadOnlyDictionary<string, string[]>? Form, IReadOnlyDictionary<string, string[]> Headers, string Body)
    {
        /// <summary>The path of the raw target split at '/', each segment percent-decoded (as a router reads segments).</summary>
        public string[] PathSegments
        {
            get
            {
                var path = RawTarget.Split('?', 2)[0];
                return [.. path.Split('/').Skip(1).Select(Uri.UnescapeDataString)];
            }
        }
    }

    public static async Task<RecordingServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new RecordingServer(app);
        app.Run(async context => await server.RecordAsync(context));
        await app.StartAsync();
        var address = app.Services.GetService(typeof(IServer)) is IServer s ? s.Features.Get<IServerAddressesFeature>()!.Addresses.First() : throw new InvalidOperationException("no server");
        server.BaseUrl = address.TrimEnd('/');
        return server;
    }

    private async Task RecordAsync(HttpContext context)
    {
        var request = context.Request;
        var raw = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
        IReadOnlyDictionary<string, string[]>? form = null;
        string body;
        if (request.HasFormContentType)
        {
            IFormCollection read;
            try
            {
                read = await request.ReadFormAsync();
            }
            catch (InvalidDataException)
            {
                // ASP.NET Core's form reader refuses some values outright (a NUL): the request is refused whole.
                context.Response.StatusCode = 400;
                return;
            }

            form = read.ToDictionary(f => f.Key, f => f.Value.Select(v => v ?? string.Empty).ToArray());
            body = string.Empty;
        }
        else
        {
            using var reader = new StreamReader(request.Body);
            body = await reader.ReadToEndAsync();
        }

        Requests.Enqueue(new Received(
            request.Method,
            raw,
            request.Query.ToDictionary(q => q.Key, q => q.Value.Select(v => v ?? string.Empty).ToArray()),
            form,
            request.Headers.ToDictionary(h => h.Key, h => h.Value.Select(v => v ?? string.Empty).ToArray(), StringComparer.OrdinalIgnoreCase),
            body));
        context.Response.StatusCode = 200;
        await context.Response.WriteAsync("ok");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
