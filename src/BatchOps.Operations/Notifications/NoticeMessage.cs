using System.Globalization;
using System.Text;
using System.Text.Json;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Notifications;
using BatchOps.Engine.Store;

namespace BatchOps.Operations.Notifications;

/// <summary>
/// What a notice says: the job's name, id, status, counts, duration, its first failures and a link to the
/// dashboard. What items hold (keys, error messages) is untrusted: control characters are escaped
/// everywhere, and what chat services read as markup or mentions is escaped in their formats.
/// </summary>
public sealed record NoticeMessage(JobRecord Job, IReadOnlyList<StoredItem> Failures, string? Link)
{
    /// <summary>How many failures a notice lists.</summary>
    public const int FailuresShown = 5;

    /// <summary>The job's run time (first start to last end).</summary>
    public TimeSpan? Duration => Job.StartedAt is { } started && Job.EndedAt is { } ended ? ended - started : null;

    /// <summary>One line: the job and how it ended.</summary>
    public string Subject => Clean($"BatchOps job '{Job.Name}' {Job.Status}");

    /// <summary>The plain-text body (email; the chat formats escape it for their markup).</summary>
    public string Text
    {
        get
        {
            var c = Job.Counts;
            var after = Duration is { } d ? string.Create(CultureInfo.InvariantCulture, $" after {d:hh\\:mm\\:ss}") : string.Empty;
            var undone = c.Compensated + c.CompensationFailed > 0 ? $", {c.Compensated} undone, {c.CompensationFailed} undo(s) failed" : string.Empty;
            var text = new StringBuilder(string.Create(CultureInfo.InvariantCulture,
                $"Job '{Job.Name}' ({Job.Id}) ended {Job.Status}{after}: {c.Total} item(s), {c.Succeeded} succeeded, {c.Failed} failed, {c.Skipped} skipped, {c.Cancelled} cancelled, {c.Pending + c.Running} not run{undone}."));
            if (Job.Message is { } message)
            {
                text.Append('\n').Append(message);
            }

            if (Failures.Count > 0)
            {
                text.Append("\nFirst failures:");
                foreach (var failure in Failures)
                {
                    text.Append(CultureInfo.InvariantCulture, $"\n- item {failure.Index}")
                        .Append(failure.Key is { } key ? $" ({key})" : string.Empty)
                        .Append(CultureInfo.InvariantCulture, $": {failure.Error?.Type}: {failure.Error?.Message}");
                }
            }

            if (Link is not null)
            {
                text.Append('\n').Append(Link);
            }

            return Clean(text.ToString());
        }
    }

    /// <summary>The webhook body in <paramref name="format"/>.</summary>
    public string Body(NotificationFormat format) => format switch
    {
        NotificationFormat.Slack => JsonSerializer.Serialize(new { text = ChatEscape(Text) }),
        NotificationFormat.Teams => JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["@type"] = "MessageCard",
            ["@context"] = "https://schema.org/extensions",
            ["summary"] = ChatEscape(Subject),
            ["themeColor"] = Job.Status is JobStatus.Completed or JobStatus.RolledBack ? "2EB886" : "D93F0B",
            ["title"] = ChatEscape(Subject),
            ["text"] = ChatEscape(Text).Replace("\n", "<br>", StringComparison.Ordinal),
        }),
        _ => JsonSerializer.Serialize(new
        {
            source = "batchops",
            job = new
            {
                id = Job.Id,
                name = Clean(Job.Name),
                status = Job.Status.ToString(),
                message = Job.Message is null ? null : Clean(Job.Message),
                total = Job.Counts.Total,
                succeeded = Job.Counts.Succeeded,
                failed = Job.Counts.Failed,
                skipped = Job.Counts.Skipped,
                cancelled = Job.Counts.Cancelled,
                notRun = Job.Counts.Pending + Job.Counts.Running,
                startedAt = Job.StartedAt,
                endedAt = Job.EndedAt,
                durationSeconds = Duration?.TotalSeconds,
            },
            failures = Failures.Select(f => new { index = f.Index, key = f.Key is null ? null : Clean(f.Key), errorType = f.Error?.Type, message = f.Error is null ? null : Clean(f.Error.Message) }),
            link = Link,
        }),
    };

    /// <summary>Control characters shown, not acted on (a terminal, a log, a mail client's preview).</summary>
    private static string Clean(string text) => string.Join('\n', text.Split('\n').Select(TerminalText.Escape));

    /// <summary>Slack's and Teams' markup characters as entities: no mention, link or formatting comes from item data.</summary>
    private static string ChatEscape(string text) =>
        text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal)
            .Replace("*", "&#42;", StringComparison.Ordinal).Replace("_", "&#95;", StringComparison.Ordinal).Replace("[", "&#91;", StringComparison.Ordinal)
            .Replace("`", "&#96;", StringComparison.Ordinal).Replace("~", "&#126;", StringComparison.Ordinal);
}
