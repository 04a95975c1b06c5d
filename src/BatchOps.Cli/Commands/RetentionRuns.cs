using BatchOps.Engine.Store;
using BatchOps.Operations;

namespace BatchOps.Cli.Commands;

/// <summary>The settings file's retention, applied by batchops run (at start), serve and worker (at start, then hourly).</summary>
internal static class RetentionRuns
{
    /// <summary>Applies it once; says what went on <paramref name="output"/>. A store error is reported, never fatal.</summary>
    public static async Task ApplyAsync(CliSession session, Retention retention, TextWriter output)
    {
        if (retention.Ages.Count == 0)
        {
            return;
        }

        try
        {
            if (await retention.ApplyAsync(session.Store, StoreLocation.LogFolder(session.StoreFolder), DateTimeOffset.UtcNow, session.Interrupt).ConfigureAwait(false) is { } result)
            {
                output.WriteLine($"batchops: {TerminalText.Escape(Retention.Describe(result))}");
            }
        }
        catch (StoreException error)
        {
            output.WriteLine($"batchops: retention not applied: {TerminalText.Escape(error.Message)}");
        }
    }

    /// <summary>Applies it now and then every <see cref="Retention.Interval"/> until <paramref name="stop"/>.</summary>
    public static async Task RunAsync(CliSession session, Retention retention, TextWriter output, CancellationToken stop)
    {
        if (retention.Ages.Count == 0)
        {
            return;
        }

        try
        {
            using var timer = new PeriodicTimer(Retention.Interval);
            do
            {
                await ApplyAsync(session, retention, output).ConfigureAwait(false);
            }
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }
}
