using System.CommandLine;
using System.Globalization;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using BatchOps.Operations;

namespace BatchOps.Cli.Commands;

/// <summary>batchops prune: removes jobs that ended long enough ago, then gives the store's space back.</summary>
internal static class PruneCommand
{
    public static Command Create(GlobalOptions global)
    {
        var olderThan = new Option<string>("--older-than") { Description = "Remove jobs that ended longer ago than this: 30d, 12h, 90m (days, hours, minutes, seconds).", Required = true };
        var status = new Option<JobStatus[]>("--status") { Description = "Only jobs that ended in these statuses (Completed, CompletedWithErrors, Failed, Cancelled, Interrupted, RolledBack, RollbackFailed); default all of them.", AllowMultipleArgumentsPerToken = true };
        var whatIf = new Option<bool>("--what-if", "--dry-run") { Description = "List the jobs, items and bytes that would go, and remove nothing." };
        var command = new Command("prune", "Remove jobs that ended longer ago than --older-than (never one that runs, is queued or rolls back), with their items and history, and give the store's space back.")
        {
            olderThan, status, whatIf, global.Json,
        };
        command.SetAction(async (parse, _) =>
        {
            var age = ParseAge(parse.GetValue(olderThan)!);
            var statuses = parse.GetValue(status) is { Length: > 0 } given ? given : null;
            using var session = global.Open(parse);
            var now = DateTimeOffset.UtcNow;
            IReadOnlyList<PruneCandidate> candidates;
            try
            {
                candidates = await Prune.FindAsync(session.Store, age, statuses, now, session.Interrupt).ConfigureAwait(false);
            }
            catch (ArgumentException error)
            {
                throw new FormatException($"--status: {error.Message.Split(" (Parameter", 2)[0]}", error);
            }

            var json = parse.GetValue(global.Json);
            if (parse.GetValue(whatIf))
            {
                if (json)
                {
                    Output.Printer.Json(session.Out, new { jobs = candidates.Select(c => new { c.Job.Id, c.Job.Name, c.Job.Status, c.Job.EndedAt, items = c.Job.Counts.Total, c.Bytes }), items = candidates.Sum(c => c.Job.Counts.Total), bytes = candidates.Sum(c => c.Bytes) });
                    return ExitCodes.Success;
                }

                foreach (var c in candidates)
                {
                    session.Out.WriteLine(TerminalText.Escape($"Would remove job '{c.Job.Name}' ({c.Job.Id}), {c.Job.Status} {When(c.Job)}: {c.Job.Counts.Total:N0} item(s), about {Size(c.Bytes)}."));
                }

                session.Out.WriteLine(candidates.Count == 0
                    ? $"No job ended more than {parse.GetValue(olderThan)} ago{(statuses is null ? string.Empty : " in " + string.Join(", ", statuses))}; nothing would be removed."
                    : $"Would remove {candidates.Count} job(s), {candidates.Sum(c => c.Job.Counts.Total):N0} item(s), about {Size(candidates.Sum(c => c.Bytes))}. Nothing was removed.");
                return ExitCodes.Success;
            }

            var result = await Prune.RemoveAsync(session.Store, candidates, age, now, session.Interrupt, StoreLocation.LogFolder(session.StoreFolder)).ConfigureAwait(false);
            if (json)
            {
                Output.Printer.Json(session.Out, new
                {
                    removed = result.Removed.Select(c => new { c.Job.Id, c.Job.Name, c.Job.Status, items = c.Job.Counts.Total, c.Bytes }),
                    left = result.Left.Select(l => new { l.Job.Id, l.Job.Name, l.Reason }),
                    result.Items, result.Bytes, result.SizeBefore, result.SizeAfter,
                });
                return ExitCodes.Success;
            }

            foreach (var (job, reason) in result.Left)
            {
                session.Out.WriteLine(TerminalText.Escape($"Left job '{job.Name}' ({job.Id}): {reason}."));
            }

            session.Out.WriteLine(result.Removed.Count == 0
                ? "Nothing was removed."
                : $"Removed {result.Removed.Count} job(s), {result.Items:N0} item(s), about {Size(result.Bytes)}; the store went from {Size(result.SizeBefore)} to {Size(result.SizeAfter)}.");
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>30d, 12h, 90m, 45s, or a TimeSpan (1.12:00:00).</summary>
    internal static TimeSpan ParseAge(string text) => Retention.ParseAge(text)
        ?? throw new FormatException($"--older-than: '{TerminalText.Escape(text)}' is not an age; write a number with d, h, m or s (30d, 12h), or days.hours:minutes:seconds.");

    private static string When(JobRecord job) => job.EndedAt is { } ended
        ? $"ended {ended.ToLocalTime().ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)}"
        : $"created {job.CreatedAt.ToLocalTime().ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)}";

    private static string Size(long bytes) => Output.Printer.Size(bytes);
}
