using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace BatchOps.Cli.Tests.Telemetry;

/// <summary>
/// An OTLP/HTTP receiver on 127.0.0.1 (POST /v1/traces, /v1/metrics, protobuf bodies), which keeps what it
/// received, and a loopback HTTP target under /target that keeps each request's traceparent header. The
/// protobuf bodies are walked by their wire format (every length-delimited field that parses as a message
/// is walked in turn), which is enough to find the names, attribute values and ids they carry.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private OtlpReceiver(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = string.Empty;

    /// <summary>The bodies received, by path (/v1/traces, /v1/metrics).</summary>
    public ConcurrentQueue<(string Path, byte[] Body)> Exports { get; } = new();

    /// <summary>The traceparent of each request to /target/…, by the rest of its path.</summary>
    public ConcurrentDictionary<string, string?> TargetHits { get; } = new();

    public static async Task<OtlpReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var receiver = new OtlpReceiver(app);
        app.Run(async context =>
        {
            var path = context.Request.Path.Value ?? string.Empty;
            if (path.StartsWith("/target/", StringComparison.Ordinal))
            {
                receiver.TargetHits[path["/target/".Length..]] = context.Request.Headers.TryGetValue("traceparent", out var value) ? value.ToString() : null;
                await context.Response.WriteAsync("ok");
                return;
            }

            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            receiver.Exports.Enqueue((path, body.ToArray()));
            context.Response.ContentType = "application/x-protobuf";
        });
        await app.StartAsync();
        receiver.BaseUrl = (app.Services.GetService(typeof(IServer)) as IServer)!.Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        return receiver;
    }

    /// <summary>Every string (printable UTF-8) in the bodies received at <paramref name="path"/>.</summary>
    public HashSet<string> StringsAt(string path)
    {
        var strings = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (at, body) in Exports)
        {
            if (at == path)
            {
                Walk(body, strings, []);
            }
        }

        return strings;
    }

    /// <summary>Every 16-byte field (a trace id) in the bodies received at <paramref name="path"/>, as hex.</summary>
    public HashSet<string> TraceIdsAt(string path)
    {
        var ids = new List<byte[]>();
        foreach (var (at, body) in Exports)
        {
            if (at == path)
            {
                Walk(body, [], ids);
            }
        }

        return [.. ids.Select(id => Convert.ToHexStringLower(id))];
    }

    private static void Walk(ReadOnlySpan<byte> message, HashSet<string> strings, List<byte[]> sixteen)
    {
        var position = 0;
        while (position < message.Length && TryField(message, ref position, out var wire, out var payload))
        {
            if (wire != 2)
            {
                continue;
            }

            var bytes = message.Slice(payload.Start, payload.Length);
            if (bytes.Length == 16)
            {
                sixteen.Add(bytes.ToArray());
            }

            if (Printable(bytes))
            {
                strings.Add(Encoding.UTF8.GetString(bytes));
            }

            if (IsMessage(bytes))
            {
                Walk(bytes, strings, sixteen);
            }
        }
    }

    private static bool IsMessage(ReadOnlySpan<byte> bytes)
    {
        var position = 0;
        while (position < bytes.Length)
        {
            if (!TryField(bytes, ref position, out _, out _))
            {
                return false;
            }
        }

        return bytes.Length > 0;
    }

    private static bool TryField(ReadOnlySpan<byte> data, ref int position, out int wire, out (int Start, int Length) payload)
    {
        payload = default;
        wire = -1;
        if (!TryVarint(data, ref position, out var key) || key >> 3 == 0)
        {
            return false;
        }

        wire = (int)(key & 7);
        switch (wire)
        {
            case 0:
                return TryVarint(data, ref position, out _);
            case 1:
                position += 8;
                return position <= data.Length;
            case 5:
                position += 4;
                return position <= data.Length;
            case 2:
                if (!TryVarint(data, ref position, out var length) || length > (ulong)(data.Length - position))
                {
                    return false;
                }

                payload = (position, (int)length);
                position += (int)length;
                return true;
            default:
                return false;
        }
    }

    private static bool TryVarint(ReadOnlySpan<byte> data, ref int position, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 64 && position < data.Length; shift += 7)
        {
            var b = data[position++];
            value |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
            {
                return true;
            }
        }

        return false;
    }

    private static bool Printable(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == 0)
        {
            return false;
        }

        foreach (var b in bytes)
        {
            if (b is < 0x20 or > 0x7e)
            {
                return false;
            }
        }

        return true;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
