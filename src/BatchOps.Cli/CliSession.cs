using BatchOps.Engine.Config;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using BatchOps.Postgres;

namespace BatchOps.Cli;

/// <summary>What one invocation works with: the store, a job runner, the settings file and the output writers.</summary>
public sealed class CliSession : IDisposable
{
    private readonly string? _reference;
    private IJobStore? _store;

    public CliSession(string? store, TextWriter output, TextWriter error, bool errorIsTerminal, CancellationToken interrupt)
    {
        store = StoreReference.Effective(store);
        _reference = StoreReference.IsPostgres(store) ? store : null;
        StoreFolder = StoreLocation.ResolveFolder(_reference is null ? store : null);
        Out = output;
        Error = error;
        ErrorIsTerminal = errorIsTerminal;
        Interrupt = interrupt;
    }

    /// <summary>
    /// The store folder (logs and settings; the SQLite store too unless the store is PostgreSQL): --store when
    /// it names a folder, else $BATCHOPS_HOME, else the platform default.
    /// </summary>
    public string StoreFolder { get; }

    public TextWriter Out { get; }

    public TextWriter Error { get; }

    /// <summary>Prints the spec's warnings (a placeholder in shell code…) to stderr, each on a line of its own.</summary>
    public void WarnAbout(BatchOps.Operations.Spec.LoadedJob loaded)
    {
        foreach (var warning in loaded.Warnings)
        {
            Error.WriteLine($"warning: {BatchOps.Operations.TerminalText.Escape(warning)}");
        }
    }

    /// <summary>Whether stderr is a terminal (a live progress bar) or a file or pipe (plain periodic lines).</summary>
    public bool ErrorIsTerminal { get; }

    /// <summary>Fires on Ctrl+C or SIGTERM.</summary>
    public CancellationToken Interrupt { get; }

    /// <summary>The store, opened on first use.</summary>
    public IJobStore Store => _store ??= JobStores.Open(_reference, StoreFolder);

    /// <summary>A runner over the store that writes job logs beside it.</summary>
    public JobRunner CreateRunner() => new(Store, StoreLocation.LogFolder(StoreFolder));

    /// <summary>The settings file: $BATCHOPS_CONFIG, else settings.json in the store folder.</summary>
    public SettingsFile LoadSettings() => SettingsFile.Load(SettingsFile.DefaultPath(StoreFolder));

    public Task<JobRecord> ResolveJobAsync(string idOrName) => JobResolver.ResolveAsync(Store, idOrName, Interrupt);

    public void Dispose() => _store?.Dispose();
}
