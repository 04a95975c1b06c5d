using BatchOps.Engine.Store;
using BatchOps.Operations;

namespace BatchOps.Cli.Commands;

/// <summary>The settings file's retention, applied by batchops run (at start), serve and worker (at start, then hourly), said on a writer.</summary>
internal static class RetentionRuns
{
    /// <summary>Applies it once; says what went on <paramref name="output"/>. A store error is reported, never fatal.</summary>
    public static Task ApplyAsync(CliSession session, Retention retention, TextWriter output) =>
        retention.ApplyReportingAsync(session.Store, StoreLocation.LogFolder(session.StoreFolder), TimeProvider.System, Reporter(output), session.Interrupt);

    /// <summary>Applies it now and then every <see cref="Retention.Interval"/> until <paramref name="stop"/>.</summary>
    public static Task RunAsync(CliSession session, Retention retention, TextWriter output, CancellationToken stop) =>
        retention.RunAsync(session.Store, StoreLocation.LogFolder(session.StoreFolder), TimeProvider.System, Reporter(output), stop, stop);

    private static Action<string, bool> Reporter(TextWriter output) => (line, _) => output.WriteLine($"batchops: {TerminalText.Escape(line)}");
}
