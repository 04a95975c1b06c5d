using System.CommandLine;
using BatchOps.Cli.Spec;
using BatchOps.Engine.Jobs;

namespace BatchOps.Cli.Commands;

internal static class RunCommand
{
    public static Command Create(GlobalOptions global)
    {
        var spec = new Argument<string>("spec") { Description = "The job spec file (JSON): name, items or itemsFile, operation, settings." };
        var command = new Command("run", "Create a job from a spec file and run it.") { spec, global.Json };
        command.SetAction(async (parse, _) =>
        {
            using var session = global.Open(parse);
            var loaded = JobSpecLoader.Load(parse.GetValue(spec)!, session.LoadSettings());
            var job = await session.CreateRunner()
                .CreateAsync(loaded.Definition, loaded.Items, JsonPayloadCodec.Instance, TextPayloadCodec.Instance.Format, loaded.KeySelector, session.Interrupt)
                .ConfigureAwait(false);
            session.Error.WriteLine($"Created job '{job.Name}' ({job.Id}) with {job.Counts.Total} item(s) in {session.Store.Location}");
            return await JobExecution.RunAsync(session, job.Id, RunKind.Resume, parse.GetValue(global.Json)).ConfigureAwait(false);
        });
        return command;
    }
}
