using System.CommandLine;
using BatchOps.Operations.Spec;
using BatchOps.Engine.Jobs;

namespace BatchOps.Cli.Commands;

internal static class RunCommand
{
    public static Command Create(GlobalOptions global)
    {
        var spec = new Argument<string>("spec") { Description = "The job spec file (JSON): name, items or itemsFile, operation, settings." };
        var dryRun = new Option<bool>("--dry-run")
        {
            Description = "Check the spec and every item and print the plan, creating no job: exec and http show the rendered command line or request of the first items (secrets masked); sql runs every chunk in a transaction that is rolled back and prints, per chunk, how many rows would be inserted, updated or deleted.",
        };
        var command = new Command("run", "Create a job from a spec file and run it.") { spec, global.Json, dryRun };
        command.SetAction(async (parse, _) =>
        {
            using var session = global.Open(parse);
            var settings = session.LoadSettings();
            var loaded = JobSpecLoader.Load(parse.GetValue(spec)!, settings);
            session.WarnAbout(loaded);
            if (parse.GetValue(dryRun))
            {
                if (!SqlDryRun.Applies(loaded))
                {
                    return PlanDryRun.Run(session, loaded);
                }

                return await SqlDryRun.RunAsync(loaded, session.Out.WriteLine, session.Interrupt).ConfigureAwait(false) ? ExitCodes.Success : ExitCodes.Failed;
            }

            // The settings file's retention, before this run adds to the store.
            await RetentionRuns.ApplyAsync(session, settings.Retention, session.Error).ConfigureAwait(false);

            if (loaded.ScriptBlockStages is [var first, ..])
            {
                session.Error.WriteLine(
                    $"Stage '{first}' is a PowerShell script block, which batchops does not run; nothing was created. Queue the job for workers " +
                    "(batchops submit) with a PowerShell one among them (Start-BatchWorker) to run it, or run it with Invoke-BatchJob -SpecPath.");
                return ExitCodes.Usage;
            }

            var job = await LoadedJobs.CreateAsync(session.CreateRunner(), loaded, session.Interrupt).ConfigureAwait(false);
            session.Error.WriteLine($"Created job '{job.Name}' ({job.Id}) with {job.Counts.Total} item(s) in {session.Store.Location}");
            if (loaded.Dropped > 0)
            {
                session.Error.WriteLine($"{loaded.Dropped} item(s) were dropped: an earlier item had the same key (\"dedupe\": \"first\").");
            }

            if (loaded.Invalid.Count > 0)
            {
                session.Error.WriteLine($"{loaded.Invalid.Count} item(s) do not match \"itemSchema\" and are recorded Failed (ValidationError); they will not run. The first: item {loaded.Invalid[0].Index}: {loaded.Invalid[0].Message}");
            }

            return await JobExecution.RunAsync(session, job.Id, RunKind.Resume, parse.GetValue(global.Json), itemsFile: loaded.File).ConfigureAwait(false);
        });
        return command;
    }
}
