using BatchOps.Engine.Notifications;
using BatchOps.Operations.Spec;
using MimeKit;

namespace BatchOps.Operations.Notifications;

/// <summary>
/// The checks on a job's notification targets, for every front end ("notify" in specs, -Notify in PowerShell):
/// statuses a job ends in, one webhook or one email each, and every secret an <c>env:NAME</c> reference.
/// </summary>
public static class NotifyCheck
{
    private const string EnvPrefix = "env:";

    /// <summary>The targets as checked; throws <see cref="JobSpecException"/> naming the first problem and its fix.</summary>
    public static IReadOnlyList<NotificationTarget>? Check(IReadOnlyList<NotificationTarget>? targets, string where)
    {
        if (targets is null)
        {
            return null;
        }

        for (var i = 0; i < targets.Count; i++)
        {
            var at = $"{where}: notify[{i}]";
            var target = targets[i] ?? throw new JobSpecException($"{at}: is null; write {{ \"on\": [\"Failed\"], \"webhook\": \"env:NAME\" }} or {{ \"on\": [...], \"email\": {{ \"to\": [...], \"smtp\": \"env:NAME\" }} }}.");
            if (target.On is not { Count: > 0 })
            {
                throw new JobSpecException($"{at}: \"on\" is required: the statuses that send it, from {string.Join(", ", Notices.EndStatuses)}.");
            }

            foreach (var status in target.On.Where(s => !Notices.Ended(s)))
            {
                throw new JobSpecException($"{at}: \"on\": {status} is not how a job ends; use {string.Join(", ", Notices.EndStatuses)}.");
            }

            if ((target.Webhook is null) == (target.Email is null))
            {
                throw new JobSpecException($"{at}: give either \"webhook\" or \"email\" (one target each; list two targets for both).");
            }

            if (target.Webhook is { } webhook)
            {
                EnvReference(webhook, $"{at}: \"webhook\"", "its URL (a webhook URL carries its secret)");
            }

            if (target.Email is { } email)
            {
                if (target.Format != NotificationFormat.Json)
                {
                    throw new JobSpecException($"{at}: \"format\" is for webhooks; an email is plain text.");
                }

                if (email.To is not { Count: > 0 })
                {
                    throw new JobSpecException($"{at}: \"email\": \"to\" needs at least one address.");
                }

                foreach (var address in email.To.Where(a => !MailboxAddress.TryParse(a, out _)))
                {
                    throw new JobSpecException($"{at}: \"email\": \"to\": '{TerminalText.Escape(address)}' is not an email address.");
                }

                if (email.From is { } from && !MailboxAddress.TryParse(from, out _))
                {
                    throw new JobSpecException($"{at}: \"email\": \"from\": '{TerminalText.Escape(from)}' is not an email address.");
                }

                EnvReference(email.Smtp, $"{at}: \"email\": \"smtp\"", "smtp://user:password@host:port (or smtps://)");
            }
        }

        return targets;
    }

    /// <summary>Targets written as JSON (an array of objects, as in a spec's "notify"), read strictly and checked.</summary>
    public static IReadOnlyList<NotificationTarget> FromJson(string json, string where)
    {
        NotificationTarget[]? targets;
        try
        {
            targets = System.Text.Json.JsonSerializer.Deserialize<NotificationTarget[]>(json, Strict);
        }
        catch (System.Text.Json.JsonException error)
        {
            throw new JobSpecException($"{where}: {error.Message} Write @{{ on = 'Failed'; webhook = 'env:NAME' }} or @{{ on = 'Failed'; email = @{{ to = 'ops@example.com'; smtp = 'env:NAME' }} }}.", error);
        }

        return Check(targets ?? [], where)!;
    }

    private static readonly System.Text.Json.JsonSerializerOptions Strict = new(Engine.Store.StoreJson.Options)
    {
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>The variable an <c>env:NAME</c> reference names.</summary>
    public static string VariableOf(string reference) => reference[EnvPrefix.Length..];

    private static void EnvReference(string? value, string where, string what)
    {
        if (value is null || !value.StartsWith(EnvPrefix, StringComparison.Ordinal))
        {
            throw new JobSpecException($"{where}: BatchOps never stores {what}: put it in an environment variable and write \"env:NAME\".");
        }

        var name = value[EnvPrefix.Length..];
        if (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
        {
            throw new JobSpecException($"{where}: \"{TerminalText.Escape(value)}\" is not a valid reference; write \"env:NAME\" with letters, digits and underscores.");
        }
    }
}
