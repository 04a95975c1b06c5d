using System.Text.Json.Serialization;
using BatchOps.Engine.Jobs;

namespace BatchOps.Engine.Notifications;

/// <summary>
/// Where to say that a job ended, and for which endings: a webhook (JSON, Teams or Slack) or an email. Stored
/// with the job, so a resume, a retry and workers honour it. Secrets never are: the webhook URL and the SMTP
/// server (with its credentials) are <c>env:NAME</c> references, read when a notice is sent.
/// </summary>
public sealed record NotificationTarget
{
    /// <summary>The job statuses that send a notice (Failed, CompletedWithErrors, RolledBack, …).</summary>
    public required IReadOnlyList<JobStatus> On { get; init; }

    /// <summary>The webhook: <c>env:NAME</c>, naming a variable that holds its URL.</summary>
    public string? Webhook { get; init; }

    /// <summary>The webhook's message format.</summary>
    public NotificationFormat Format { get; init; } = NotificationFormat.Json;

    /// <summary>The email to send instead of a webhook call.</summary>
    public EmailTarget? Email { get; init; }

    /// <summary>What the target is, for lists and logs, secrets left out (a variable's name, never its value).</summary>
    [JsonIgnore]
    public string Description => Email is { } email
        ? $"email to {string.Join(", ", email.To)} via {email.Smtp}"
        : $"webhook {Webhook} ({Format.ToString().ToLowerInvariant()})";
}

/// <summary>A webhook message's shape.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<NotificationFormat>))]
public enum NotificationFormat
{
    /// <summary>BatchOps' own JSON document (job, counts, first failures, link).</summary>
    Json = 0,

    /// <summary>A Microsoft Teams incoming-webhook message.</summary>
    Teams = 1,

    /// <summary>A Slack incoming-webhook message.</summary>
    Slack = 2,
}

/// <summary>An email notice.</summary>
public sealed record EmailTarget
{
    /// <summary>The recipients' addresses.</summary>
    public required IReadOnlyList<string> To { get; init; }

    /// <summary>The sender's address; the default is batchops@ the machine's name.</summary>
    public string? From { get; init; }

    /// <summary>
    /// The SMTP server: <c>env:NAME</c>, naming a variable that holds smtp://[user:password@]host[:port]
    /// (STARTTLS when offered) or smtps://… (TLS from the start).
    /// </summary>
    public required string Smtp { get; init; }
}
