using System.Net.Http.Headers;
using System.Text;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Notifications;
using BatchOps.Engine.Store;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using Polly;
using Polly.Retry;

namespace BatchOps.Operations.Notifications;

/// <summary>
/// Sends a job end's notices: for each target whose statuses include the job's, claims the notice in the
/// store, sends it (a webhook POST or an email), retrying with backoff, and records Sent or Failed with the
/// error. Secrets are read from the environment when a notice is sent and appear nowhere else. A target
/// that keeps failing is recorded (and shown by batchops show, Get-BatchJob and the dashboard); it never
/// fails the job.
/// </summary>
public sealed class JobNotifier : IJobNotifier
{
    /// <summary>The variable that holds the dashboard's address; notices link to the job's page under it.</summary>
    public const string DashboardUrlVariable = "BATCHOPS_DASHBOARD_URL";

    // A webhook answers in seconds; a hanging one must not hold up the end of a run for long (3 attempts).
    private static readonly HttpClient SharedClient = new() { Timeout = TimeSpan.FromSeconds(10) };

    private readonly HttpClient _http;
    private readonly ResiliencePipeline _retry;
    private readonly Func<string, string?> _environment;

    /// <summary>A notifier; by default the process's environment, a shared HTTP client and 3 attempts 2 s, 4 s apart.</summary>
    public JobNotifier(HttpClient? http = null, TimeSpan? firstDelay = null, int attempts = 3, Func<string, string?>? environment = null)
    {
        _http = http ?? SharedClient;
        _environment = environment ?? Environment.GetEnvironmentVariable;
        _retry = new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = Math.Max(0, attempts - 1),
            Delay = firstDelay ?? TimeSpan.FromSeconds(2),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = firstDelay is null,
            ShouldHandle = new PredicateBuilder().Handle<Exception>(e => e is not OperationCanceledException),
        }).Build();
    }

    /// <summary>The notifier every front end uses unless told otherwise.</summary>
    public static JobNotifier Default { get; } = new();

    /// <summary>Reports each sent or failed notice (the front end's log line).</summary>
    public event Action<JobRecord, NotificationTarget, NoticeRecord>? Reported;

    /// <inheritdoc/>
    public async Task<IReadOnlyList<NoticeRecord>> NotifyAsync(IJobStore store, JobRecord job, CancellationToken cancellationToken = default) =>
        await NotifyAsync(store, job, retryFailed: false, cancellationToken).ConfigureAwait(false);

    /// <summary>As <see cref="NotifyAsync(IJobStore, JobRecord, CancellationToken)"/>; with <paramref name="retryFailed"/>, notices that failed are tried again.</summary>
    public async Task<IReadOnlyList<NoticeRecord>> NotifyAsync(IJobStore store, JobRecord job, bool retryFailed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(job);
        if (job.Notify is not { Count: > 0 } targets || job.EndedAt is not { } endedAt || !Notices.Ended(job.Status))
        {
            return [];
        }

        var handled = new List<NoticeRecord>();
        NoticeMessage? message = null;
        for (var target = 0; target < targets.Count; target++)
        {
            if (!targets[target].On.Contains(job.Status)
                || await store.ClaimNoticeAsync(job.Id, target, endedAt, Notices.Lease, retryFailed, cancellationToken).ConfigureAwait(false) is null)
            {
                continue;
            }

            message ??= await MessageAsync(store, job, cancellationToken).ConfigureAwait(false);
            var attempts = 0;
            string? error = null;
            try
            {
                await _retry.ExecuteAsync(async cancel =>
                {
                    attempts++;
                    await SendAsync(targets[target], message, cancel).ConfigureAwait(false);
                }, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception failure) when (failure is not OperationCanceledException)
            {
                error = TerminalText.Escape(failure.Message);
            }

            await store.RecordNoticeAsync(job.Id, target, endedAt, sent: error is null, attempts, error, CancellationToken.None).ConfigureAwait(false);
            var record = new NoticeRecord
            {
                JobId = job.Id, Target = target, EndedAt = endedAt, Status = error is null ? NoticeStatus.Sent : NoticeStatus.Failed, Attempts = attempts, Error = error,
                UpdatedAt = DateTimeOffset.UtcNow,
            };
            handled.Add(record);
            Reported?.Invoke(job, targets[target], record);
        }

        return handled;
    }

    private async Task<NoticeMessage> MessageAsync(IJobStore store, JobRecord job, CancellationToken cancellationToken)
    {
        var failures = new List<StoredItem>();
        if (job.Counts.Failed > 0)
        {
            await foreach (var item in store.GetItemsAsync(job.Id, new ItemQuery { Statuses = [ItemStatus.Failed] }, cancellationToken).ConfigureAwait(false))
            {
                failures.Add(item);
                if (failures.Count == NoticeMessage.FailuresShown)
                {
                    break;
                }
            }
        }

        var dashboard = _environment(DashboardUrlVariable);
        var link = Uri.TryCreate(dashboard, UriKind.Absolute, out var root) && root.Scheme is "http" or "https"
            ? $"{root.AbsoluteUri.TrimEnd('/')}/#/jobs/{Uri.EscapeDataString(job.Id)}"
            : null;
        return new NoticeMessage(job, failures, link);
    }

    private async Task SendAsync(NotificationTarget target, NoticeMessage message, CancellationToken cancellationToken)
    {
        if (target.Email is { } email)
        {
            await SendEmailAsync(email, message, cancellationToken).ConfigureAwait(false);
            return;
        }

        var variable = NotifyCheck.VariableOf(target.Webhook!);
        if (!Uri.TryCreate(Secret(variable), UriKind.Absolute, out var url) || url.Scheme is not ("https" or "http"))
        {
            throw new InvalidOperationException($"the environment variable {variable} does not hold an http(s) URL.");
        }

        using var content = new StringContent(message.Body(target.Format), Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        using var response = await _http.PostAsync(url, content, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            // The URL is a secret: only its host is named.
            throw new HttpRequestException($"the webhook at {url.Host} answered {(int)response.StatusCode} {response.ReasonPhrase}.", null, response.StatusCode);
        }
    }

    private async Task SendEmailAsync(EmailTarget email, NoticeMessage message, CancellationToken cancellationToken)
    {
        var variable = NotifyCheck.VariableOf(email.Smtp);
        if (!Uri.TryCreate(Secret(variable), UriKind.Absolute, out var server) || server.Scheme is not ("smtp" or "smtps"))
        {
            throw new InvalidOperationException($"the environment variable {variable} does not hold smtp://[user:password@]host[:port] or smtps://….");
        }

        using var mail = new MimeMessage();
        mail.From.Add(MailboxAddress.Parse(email.From ?? $"batchops@{Environment.MachineName.ToLowerInvariant()}.localdomain"));
        foreach (var to in email.To)
        {
            mail.To.Add(MailboxAddress.Parse(to));
        }

        mail.Subject = message.Subject.ReplaceLineEndings(" ");
        mail.Body = new TextPart("plain") { Text = message.Text };
        using var client = new SmtpClient { Timeout = (int)SharedClient.Timeout.TotalMilliseconds };
        var port = server.IsDefaultPort || server.Port <= 0 ? (server.Scheme == "smtps" ? 465 : 25) : server.Port;
        await client.ConnectAsync(server.Host, port, server.Scheme == "smtps" ? SecureSocketOptions.SslOnConnect : SecureSocketOptions.StartTlsWhenAvailable, cancellationToken).ConfigureAwait(false);
        if (server.UserInfo.Length > 0)
        {
            var parts = server.UserInfo.Split(':', 2);
            await client.AuthenticateAsync(Uri.UnescapeDataString(parts[0]), parts.Length > 1 ? Uri.UnescapeDataString(parts[1]) : string.Empty, cancellationToken).ConfigureAwait(false);
        }

        await client.SendAsync(mail, cancellationToken).ConfigureAwait(false);
        await client.DisconnectAsync(quit: true, cancellationToken).ConfigureAwait(false);
    }

    private string Secret(string variable) =>
        _environment(variable) is { Length: > 0 } value ? value : throw new InvalidOperationException($"the environment variable {variable} is not set; set it where the job runs (and where batchops notify --pending runs).");
}
