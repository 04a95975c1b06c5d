using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using MimeKit;
using SmtpServer;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace BatchOps.Cli.Tests.Notifications;

/// <summary>A real SMTP server on 127.0.0.1 (the SmtpServer package) that keeps every message it accepts, parsed by MimeKit.</summary>
public sealed class LoopbackSmtpServer : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _running;

    public LoopbackSmtpServer()
    {
        Port = Telemetry.PrometheusServer.FreePort();
        var options = new SmtpServerOptionsBuilder()
            .ServerName("localhost")
            .Endpoint(endpoint => endpoint.Endpoint(new IPEndPoint(IPAddress.Loopback, Port)))
            .Build();
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(new Keeper(Messages));
        _running = new SmtpServer.SmtpServer(options, services).StartAsync(_stop.Token);
    }

    public int Port { get; }

    /// <summary>What a sender's smtp:// variable holds for this server.</summary>
    public string Url => $"smtp://127.0.0.1:{Port}";

    public ConcurrentQueue<MimeMessage> Messages { get; } = new();

    public void Dispose()
    {
        _stop.Cancel();
        try
        {
            _running.Wait(TimeSpan.FromSeconds(10));
        }
        catch (AggregateException)
        {
        }

        _stop.Dispose();
    }

    private sealed class Keeper(ConcurrentQueue<MimeMessage> messages) : MessageStore
    {
        public override async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            using var stream = new MemoryStream(buffer.ToArray());
            messages.Enqueue(await MimeMessage.LoadAsync(stream, cancellationToken));
            return SmtpResponse.Ok;
        }
    }
}
