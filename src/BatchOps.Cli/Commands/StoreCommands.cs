using BatchOps.Operations;
using System.CommandLine;
using System.Text;
using BatchOps.Cli.Output;
using BatchOps.Engine.Export;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;

namespace BatchOps.Cli.Commands;

/// <summary>The commands that read the store as a whole: list, stats, export.</summary>
internal static class StoreCommands
{
    public static Command List(GlobalOptions global)
    {
        var status = new Option<JobStatus[]>("--status") { Description = "Only jobs in these statuses (Pending, Running, Completed, CompletedWithErrors, Failed, Cancelled, Interrupted).", AllowMultipleArgumentsPerToken = true };
        var name = new Option<string?>("--name") { Description = "Only jobs whose name matches this pattern (* and ? wildcards)." };
        var tag = new Option<string?>("--tag") { Description = "Only jobs with this tag." };
        var newest = new Option<int?>("--newest") { Description = "Only the newest N jobs." };
        var command = new Command("list", "List jobs, newest first.") { status, name, tag, newest, global.Json };
        command.SetAction(async (parse, _) =>
        {
            using var session = global.Open(parse);
            var statuses = parse.GetValue(status);
            var jobs = await session.Store.FindJobsAsync(new JobQuery
            {
                Statuses = statuses is { Length: > 0 } ? statuses : null,
                Name = parse.GetValue(name),
                Tag = parse.GetValue(tag),
                Newest = parse.GetValue(newest),
            }, session.Interrupt).ConfigureAwait(false);
            Printer.JsonOr(session.Out, parse.GetValue(global.Json), jobs, Printer.JobTable);

            return ExitCodes.Success;
        });
        return command;
    }

    public static Command Stats(GlobalOptions global)
    {
        var job = new Option<string?>("--job") { Description = "One job's counts and rates per stage (id or name) instead of the store's totals: read from kept counts, a lookup whatever the stages hold." };
        var stage = new Option<string[]>("--stage") { Description = "With --job: only these stages.", AllowMultipleArgumentsPerToken = true };
        var command = new Command("stats", "Statistics over every job in the store (by status and tag, active and recent jobs, durations, items/s), or per stage of one job (--job).") { job, stage, global.Json };
        command.SetAction(async (parse, _) =>
        {
            using var session = global.Open(parse);
            if (parse.GetValue(job) is { } idOrName)
            {
                var record = await session.ResolveJobAsync(idOrName).ConfigureAwait(false);
                var stages = await StageStatistics.ReadAsync(session.Store, record, cancellationToken: session.Interrupt).ConfigureAwait(false);
                var wanted = parse.GetValue(stage) ?? [];
                if (wanted.FirstOrDefault(w => !stages.Any(s => string.Equals(s.Stage, w, StringComparison.OrdinalIgnoreCase))) is { } missing)
                {
                    session.Error.WriteLine($"Job '{TerminalText.Escape(record.Name)}' ({record.Id}) has no stage '{TerminalText.Escape(missing)}'. " +
                        (record.Stages is null ? "It has no stages." : $"Its stages: {TerminalText.Escape(string.Join(", ", record.Stages.Select(s => s.Name)))}."));
                    return ExitCodes.Usage;
                }

                var chosen = wanted.Length == 0 ? stages : [.. stages.Where(s => wanted.Contains(s.Stage, StringComparer.OrdinalIgnoreCase))];
                Printer.JsonOr(session.Out, parse.GetValue(global.Json), chosen, Printer.StageStatisticsTable);
                return ExitCodes.Success;
            }

            if (parse.GetValue(stage) is { Length: > 0 })
            {
                session.Error.WriteLine("--stage needs --job: stages belong to one job (batchops stats --job JOB --stage NAME).");
                return ExitCodes.Usage;
            }

            var stats = await session.Store.GetStatisticsAsync(session.Interrupt).ConfigureAwait(false);
            Printer.JsonOr(session.Out, parse.GetValue(global.Json), stats, Printer.Statistics);

            return ExitCodes.Success;
        });
        return command;
    }

    public static Command Export(GlobalOptions global)
    {
        var job = JobCommands.JobArgument();
        var format = new Option<string>("--format") { Description = "json or csv.", Required = true };
        format.AcceptOnlyFromAmong("json", "csv");
        var output = new Option<string?>("--output") { Description = "File to write; the default is standard output." };
        var command = new Command("export", "Export a job with all its items as JSON or CSV.") { job, format, output };
        command.SetAction(async (parse, _) =>
        {
            using var session = global.Open(parse);
            var record = await session.ResolveJobAsync(parse.GetValue(job)!).ConfigureAwait(false);
            var path = parse.GetValue(output);
            await using var stream = path is null ? Stream.Null : new FileStream(path, FileMode.Create, FileAccess.Write);
            if (parse.GetValue(format) == "json")
            {
                if (path is null)
                {
                    using var buffer = new MemoryStream();
                    await JobExporter.WriteJsonAsync(session.Store, record, buffer, session.Interrupt).ConfigureAwait(false);
                    await session.Out.WriteLineAsync(Encoding.UTF8.GetString(buffer.ToArray())).ConfigureAwait(false);
                }
                else
                {
                    await JobExporter.WriteJsonAsync(session.Store, record, stream, session.Interrupt).ConfigureAwait(false);
                }
            }
            else
            {
                await using var writer = path is null ? null : new StreamWriter(stream, new UTF8Encoding(false));
                await JobExporter.WriteCsvAsync(session.Store, record, writer ?? session.Out, session.Interrupt).ConfigureAwait(false);
            }

            if (record.OutputsNotKept() is { } notKept)
            {
                session.Error.WriteLine($"batchops: job '{TerminalText.Escape(record.Name)}' ({record.Id}): {notKept}; the output column is empty for those items.");
            }

            if (path is not null)
            {
                session.Error.WriteLine($"Exported job '{record.Name}' ({record.Id}) to {Path.GetFullPath(path)}");
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
