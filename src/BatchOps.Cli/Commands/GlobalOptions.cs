using System.CommandLine;

namespace BatchOps.Cli.Commands;

/// <summary>Options every command shares, and the session factory the commands use.</summary>
public sealed class GlobalOptions(Func<string?, CliSession> openSession)
{
    public Option<string?> Store { get; } = new("--store")
    {
        Description = "The job store: a folder (batchops.db, logs, settings.json; overrides BATCHOPS_HOME), or a PostgreSQL database shared by many hosts: postgresql://user@host/database, a connection string, or env:NAME (a variable holding either; the only place a password may be). Default: BATCHOPS_STORE, else the folder.",
        Recursive = true,
    };

    public Option<bool> Json { get; } = new("--json") { Description = "Write JSON instead of text." };

    public CliSession Open(ParseResult parse) => openSession(parse.GetValue(Store));
}
