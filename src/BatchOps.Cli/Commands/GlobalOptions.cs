using System.CommandLine;

namespace BatchOps.Cli.Commands;

/// <summary>Options every command shares, and the session factory the commands use.</summary>
public sealed class GlobalOptions(Func<string?, CliSession> openSession)
{
    public Option<string?> Store { get; } = new("--store")
    {
        Description = "Folder of the job store (batchops.db, logs, settings.json). Overrides BATCHOPS_HOME.",
        Recursive = true,
    };

    public Option<bool> Json { get; } = new("--json") { Description = "Write JSON instead of text." };

    public CliSession Open(ParseResult parse) => openSession(parse.GetValue(Store));
}
