using System.Text.Json;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Notifications;
using BatchOps.Engine.Store;
using BatchOps.Operations.Notifications;
using BatchOps.Operations.Tests.Templates;
using FsCheck;
using FsCheck.Fluent;

namespace BatchOps.Operations.Tests.Notifications;

/// <summary>
/// What items hold reaches notices (a failed item's key and error message): whatever it is, a JSON receiver
/// parses back the same text with control characters shown, and a chat service finds no markup, link or
/// mention of its own in the message (Slack's &lt;!channel&gt;, Teams' HTML).
/// </summary>
public sealed class NoticeMessageTests
{
    private static NoticeMessage With(string key, string error) => new(
        new JobRecord
        {
            Id = "job1", Name = "nightly", Status = JobStatus.CompletedWithErrors, OperationKind = "http", Operation = "{}",
            Counts = new ItemCounts { Succeeded = 9, Failed = 1 },
            StartedAt = DateTimeOffset.UnixEpoch, EndedAt = DateTimeOffset.UnixEpoch.AddMinutes(3),
        },
        [new StoredItem { Index = 7, Key = key, Input = "{}", Status = ItemStatus.Failed, Error = new ItemError("HttpStatus", error, null, false) }],
        "http://127.0.0.1:5178/#/jobs/job1");

    private static void Check(Func<string, string, bool> property) =>
        Prop.ForAll(UntrustedValues.Any, UntrustedValues.Any, property).Check(Config.QuickThrowOnFailure.WithMaxTest(300));

    private static bool NoControlButNewline(string text) => text.All(c => c is '\n' or '\t' || !TerminalActs(c));

    // What TerminalText shows escaped: C0 but tab, DEL, C1, and the bidirectional overrides.
    private static bool TerminalActs(char c) => char.IsControl(c) || c is >= '\u202a' and <= '\u202e' || c is >= '\u2066' and <= '\u2069';

    [Fact]
    public void JsonNotice_ParsesBackToTheItemsText_WithControlCharactersShown()
    {
        Check((key, error) =>
        {
            var failure = JsonDocument.Parse(With(key, error).Body(NotificationFormat.Json)).RootElement.GetProperty("failures")[0];
            var parsedKey = failure.GetProperty("key").GetString()!;
            var parsedError = failure.GetProperty("message").GetString()!;
            return NoControlButNewline(parsedKey) && NoControlButNewline(parsedError)
                && parsedKey.Replace("\n", string.Empty, StringComparison.Ordinal) == TerminalText.Escape(key.Replace("\n", string.Empty, StringComparison.Ordinal))
                && failure.GetProperty("index").GetInt64() == 7;
        });
    }

    [Fact]
    public void SlackAndTeamsNotices_CarryNoMarkupFromTheItems()
    {
        Check((key, error) =>
        {
            var message = With(key, error);
            var slack = JsonDocument.Parse(message.Body(NotificationFormat.Slack)).RootElement.GetProperty("text").GetString()!;
            var teams = JsonDocument.Parse(message.Body(NotificationFormat.Teams)).RootElement.GetProperty("text").GetString()!
                .Replace("<br>", "\n", StringComparison.Ordinal);
            return Plain(slack) && Plain(teams) && slack.Contains("item 7", StringComparison.Ordinal);
        });

        // Markup characters become entities: what the service shows, not what it does.
        static bool Plain(string text) => text.IndexOfAny(['<', '>', '*', '_', '`', '~', '[']) < 0 && NoControlButNewline(text);
    }

    [Fact]
    public void TheText_SaysTheJobItsEndItsCountsDurationFirstFailureAndLink()
    {
        var text = With("web01", "answered 503").Text;

        Assert.Equal(
            "Job 'nightly' (job1) ended CompletedWithErrors after 00:03:00: 10 item(s), 9 succeeded, 1 failed, 0 skipped, 0 cancelled, 0 not run.\n" +
            "First failures:\n- item 7 (web01): HttpStatus: answered 503\nhttp://127.0.0.1:5178/#/jobs/job1",
            text);
    }
}
