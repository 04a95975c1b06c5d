using System.CommandLine;
using BatchOps.Engine.Notifications;
using BatchOps.Operations;
using BatchOps.Operations.Notifications;

namespace BatchOps.Cli.Commands;

/// <summary>batchops notify --pending: sends the notices that job ends still owe (their sender died, or a job was ended where nothing sends).</summary>
internal static class NotifyCommand
{
    public static Command Create(GlobalOptions global)
    {
        var pending = new Option<bool>("--pending") { Description = "Send every notice a job's last end still owes: never sent, or its sender died while sending." };
        var failed = new Option<bool>("--failed") { Description = "With --pending: also try again the notices whose every attempt failed." };
        var job = new Option<string?>("--job") { Description = "Only this job (id or name)." };
        var command = new Command("notify", "Send the notices of job ends that are still owed (the \"notify\" targets of a spec: webhooks and emails). Each notice is sent once: one recorded sent is never sent again.")
        {
            pending, failed, job, global.Json,
        };
        command.SetAction(async (parse, _) =>
        {
            if (!parse.GetValue(pending))
            {
                throw new FormatException("batchops notify sends what is owed: add --pending (and --failed to try failed notices again).");
            }

            using var session = global.Open(parse);
            var retryFailed = parse.GetValue(failed);
            var ids = parse.GetValue(job) is { } only
                ? [(await session.ResolveJobAsync(only).ConfigureAwait(false)).Id]
                : await session.Store.JobsWithNoticesDueAsync(retryFailed, session.Interrupt).ConfigureAwait(false);
            var sent = new List<object>();
            var failures = 0;
            foreach (var id in ids)
            {
                if (await session.Store.GetJobAsync(id, session.Interrupt).ConfigureAwait(false) is not { Notify: { } targets } record)
                {
                    continue;
                }

                foreach (var notice in await JobNotifier.Default.NotifyAsync(session.Store, record, retryFailed, session.Interrupt).ConfigureAwait(false))
                {
                    failures += notice.Status == NoticeStatus.Failed ? 1 : 0;
                    sent.Add(new { job = record.Id, name = record.Name, target = targets[notice.Target].Description, notice.Status, notice.Attempts, notice.Error });
                    if (!parse.GetValue(global.Json))
                    {
                        session.Out.WriteLine(TerminalText.Escape($"Job '{record.Name}' ({record.Id}): {Notices.Describe(targets[notice.Target], notice)}"));
                    }
                }
            }

            if (parse.GetValue(global.Json))
            {
                Output.Printer.Json(session.Out, sent);
            }
            else
            {
                session.Out.WriteLine(sent.Count == 0 ? "No notice is owed." : $"{sent.Count - failures} notice(s) sent, {failures} failed.");
            }

            return failures == 0 ? ExitCodes.Success : ExitCodes.Failed;
        });
        return command;
    }
}
