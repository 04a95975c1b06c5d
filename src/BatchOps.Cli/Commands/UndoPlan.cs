using BatchOps.Cli.Output;
using BatchOps.Engine.Store;

namespace BatchOps.Cli.Commands;

/// <summary><c>batchops undo JOB --what-if</c>: what an undo would compensate, in order, changing nothing.</summary>
internal static class UndoPlan
{
    private const int Listed = 20;

    public static async Task<int> PrintAsync(CliSession session, JobRecord job, bool json)
    {
        var steps = await session.CreateRunner().PlanUndoAsync(job, session.Interrupt).ConfigureAwait(false);
        if (json)
        {
            Printer.Json(session.Out, steps.Select(s => new { stage = s.Stage.Name, undo = s.Stage.Undo is not null, items = s.Indexes }));
            return ExitCodes.Success;
        }

        var total = steps.Where(s => s.Stage.Undo is not null).Sum(s => s.Indexes.Count);
        session.Out.WriteLine($"What if: undo of job '{job.Name}' ({job.Id}) would compensate {total} item(s); nothing was changed.");
        foreach (var (stage, indexes) in steps)
        {
            var name = stage.Name.Length == 0 ? "items" : $"stage {stage.Name}";
            if (stage.Undo is null)
            {
                if (indexes.Count > 0)
                {
                    session.Out.WriteLine($"  {name}: no undo operation; its {indexes.Count} succeeded item(s) would be left as they are");
                }

                continue;
            }

            var shown = string.Join(", ", indexes.Take(Listed));
            session.Out.WriteLine($"  {name}: {indexes.Count} item(s), newest first{(indexes.Count == 0 ? string.Empty : $": {shown}{(indexes.Count > Listed ? ", …" : string.Empty)}")}");
        }

        return ExitCodes.Success;
    }
}
