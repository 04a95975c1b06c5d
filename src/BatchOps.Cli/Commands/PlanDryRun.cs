using BatchOps.Operations.Spec;

namespace BatchOps.Cli.Commands;

/// <summary><c>batchops run SPEC --dry-run</c> for exec and http: prints the operations library's dry run of the spec.</summary>
internal static class PlanDryRun
{
    public static int Run(CliSession session, LoadedJob loaded)
    {
        foreach (var line in DryRunPlan.Lines(loaded))
        {
            session.Out.WriteLine(line);
        }

        return ExitCodes.Success;
    }
}
