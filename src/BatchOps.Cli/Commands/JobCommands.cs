using System.CommandLine;
using BatchOps.Cli.Output;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;

namespace BatchOps.Cli.Commands;

/// <summary>The commands that act on one stored job: resume, retry, cancel, remove.</summary>
internal static class JobCommands
{
    public static Argument<string> JobArgument() => new("job") { Description = "Job id, or job name (the newest job with that name)." };

    public static Command Resume(GlobalOptions global)
    {
        var job = JobArgument();
        var queue = new Option<bool>("--queue") { Description = "Queue the rest for workers (a PostgreSQL store) instead of running it here." };
        var command = new Command("resume", "Run the items of a job that have not run: after a stop, a crash or Ctrl+C. Succeeded items never run again.") { job, queue, global.Json };
        command.SetAction(async (parse, _) =>
        {
            using var session = global.Open(parse);
            if (parse.GetValue(queue))
            {
                return await WorkerCommands.QueueAsync(session, parse.GetValue(job)!, parse.GetValue(global.Json)).ConfigureAwait(false);
            }

            return await JobExecution.RunAsync(session, parse.GetValue(job)!, RunKind.Resume, parse.GetValue(global.Json)).ConfigureAwait(false);
        });
        return command;
    }

    public static Command Retry(GlobalOptions global)
    {
        var job = JobArgument();
        var items = new Option<long[]>("--item") { Description = "Retry only these item indexes (repeatable). The default retries every failed item.", AllowMultipleArgumentsPerToken = true };
        var stage = new Option<string>("--stage") { Description = "A staged job: retry only this stage's failed items (stages skipped because of it then run too)." };
        var command = new Command("retry", "Run the failed items of a job again; each keeps its earlier error in its history.") { job, items, stage, global.Json };
        command.SetAction(async (parse, _) =>
        {
            using var session = global.Open(parse);
            var chosen = parse.GetValue(items);
            return await JobExecution.RunAsync(session, parse.GetValue(job)!, RunKind.RetryFailed, parse.GetValue(global.Json), chosen is { Length: > 0 } ? chosen : null, stage: parse.GetValue(stage)).ConfigureAwait(false);
        });
        return command;
    }

    public static Command Undo(GlobalOptions global)
    {
        var job = JobArgument();
        var whatIf = new Option<bool>("--what-if", "--dry-run") { Description = "List what would be undone (stages in undo order, items newest first) and change nothing." };
        var command = new Command("undo", "Compensate a job's succeeded items with its undo operation: stages in reverse dependency order, items newest first. Resumable; failed compensations are retried by running it again.") { job, whatIf, global.Json };
        command.SetAction(async (parse, _) =>
        {
            using var session = global.Open(parse);
            var record = await session.ResolveJobAsync(parse.GetValue(job)!).ConfigureAwait(false);
            if (!record.CanUndo)
            {
                session.Error.WriteLine($"Job '{record.Name}' ({record.Id}) has no undo operation, so nothing can undo its items. Give one in the spec (\"undo\").");
                return ExitCodes.Usage;
            }

            return parse.GetValue(whatIf)
                ? await UndoPlan.PrintAsync(session, record, parse.GetValue(global.Json)).ConfigureAwait(false)
                : await JobExecution.UndoAsync(session, record, parse.GetValue(global.Json)).ConfigureAwait(false);
        });
        return command;
    }

    public static Command Cancel(GlobalOptions global)
    {
        var job = JobArgument();
        var force = new Option<bool>("--force") { Description = "Cancel running attempts too, instead of letting them finish." };
        var command = new Command("cancel", "Stop a job, also one running in another process: nothing new starts and the job ends Cancelled (resumable).") { job, force };
        command.SetAction(async (parse, _) =>
        {
            using var session = global.Open(parse);
            var record = await session.ResolveJobAsync(parse.GetValue(job)!).ConfigureAwait(false);
            var mode = parse.GetValue(force) ? StopMode.Forced : StopMode.Graceful;
            var outcome = await JobControl.StopAsync(session.Store, record, mode, session.Interrupt).ConfigureAwait(false);
            session.Out.WriteLine(outcome switch
            {
                StopOutcome.Requested when record.Queued => $"Asked every worker running job '{record.Name}' ({record.Id}) to stop ({mode.ToString().ToLowerInvariant()}); it ends Cancelled once the chunks in hand are recorded.",
                StopOutcome.Requested => $"Asked process {record.Lease?.ProcessId} on {record.Lease?.Host} to stop job '{record.Name}' ({record.Id}) ({mode.ToString().ToLowerInvariant()}).",
                StopOutcome.Cancelled => $"Job '{record.Name}' ({record.Id}) was {record.Status} and is now Cancelled.",
                _ => $"Job '{record.Name}' ({record.Id}) is not running ({record.Status}); nothing to cancel.",
            });

            return ExitCodes.Success;
        });
        return command;
    }

    public static Command Remove(GlobalOptions global)
    {
        var job = JobArgument();
        var command = new Command("remove", "Delete a job with its items, history and log.") { job };
        command.SetAction(async (parse, _) =>
        {
            using var session = global.Open(parse);
            var record = await session.ResolveJobAsync(parse.GetValue(job)!).ConfigureAwait(false);
            if (!await JobControl.RemoveAsync(session.Store, record, Engine.Store.StoreLocation.LogFolder(session.StoreFolder), session.Interrupt).ConfigureAwait(false))
            {
                session.Error.WriteLine($"Job '{record.Name}' ({record.Id}) is running in process {record.Lease?.ProcessId}; cancel it first: batchops cancel {record.Id}");
                return ExitCodes.Usage;
            }

            session.Out.WriteLine($"Removed job '{record.Name}' ({record.Id}).");
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command Show(GlobalOptions global)
    {
        var job = JobArgument();
        var items = new Option<bool>("--items") { Description = "List the job's items too." };
        var status = new Option<ItemStatus[]>("--status") { Description = "With --items: only items in these statuses (Pending, Running, Succeeded, Failed, Skipped, Cancelled, Compensated, CompensationFailed).", AllowMultipleArgumentsPerToken = true };
        var command = new Command("show", "Show one job, optionally with its items.") { job, items, status, global.Json };
        command.SetAction(async (parse, _) =>
        {
            using var session = global.Open(parse);
            var record = await session.ResolveJobAsync(parse.GetValue(job)!).ConfigureAwait(false);
            var statuses = parse.GetValue(status);
            var listItems = parse.GetValue(items) || statuses is { Length: > 0 };
            var query = new Engine.Store.ItemQuery { Statuses = statuses is { Length: > 0 } ? statuses : null };
            var stages = await Engine.Store.StageSummary.ReadAsync(session.Store, record, session.Interrupt).ConfigureAwait(false);
            var notices = record.Notify is null ? [] : await session.Store.GetNoticesAsync(record.Id, session.Interrupt).ConfigureAwait(false);
            if (parse.GetValue(global.Json))
            {
                var list = listItems ? await session.Store.GetItemsAsync(record.Id, query, session.Interrupt).ToListAsync(session.Interrupt).ConfigureAwait(false) : null;
                Printer.Json(session.Out, new { job = record, stages = stages.Count == 0 ? null : stages.Select(s => new { s.Stage.Name, s.Stage.DependsOn, s.Status, s.Counts }), notices = record.Notify is null ? null : notices, items = list });
                return ExitCodes.Success;
            }

            Printer.JobDetails(session.Out, record);
            Printer.Notices(session.Out, record, notices);
            if (stages.Count > 0)
            {
                session.Out.WriteLine();
                Printer.StageTable(session.Out, stages);
            }

            if (listItems)
            {
                session.Out.WriteLine();
                Printer.ItemTable(session.Out, await session.Store.GetItemsAsync(record.Id, query, session.Interrupt).ToListAsync(session.Interrupt).ConfigureAwait(false));
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
