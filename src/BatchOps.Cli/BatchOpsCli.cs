using System.CommandLine;
using BatchOps.Cli.Commands;
using BatchOps.Operations.Spec;
using BatchOps.Engine.Store;

namespace BatchOps.Cli;

/// <summary>The batchops command line: parses, runs one command, maps failures to exit statuses.</summary>
public static class BatchOpsCli
{
    /// <summary>Runs one invocation; usable in-process (tests) as well as from <c>Main</c>.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, bool errorIsTerminal = false, CancellationToken interrupt = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var global = new GlobalOptions(store => new CliSession(store, output, error, errorIsTerminal, interrupt));
        var root = new RootCommand("batchops: run large batches of processes or HTTP requests from a JSON job spec, durably (resume, retry, history).")
        {
            global.Store,
        };
        foreach (var command in new[]
        {
            RunCommand.Create(global), StoreCommands.List(global), JobCommands.Show(global), JobCommands.Cancel(global),
            JobCommands.Resume(global), JobCommands.Retry(global), JobCommands.Undo(global), JobCommands.Remove(global), StoreCommands.Export(global), StoreCommands.Stats(global),
            Serve.ServeCommand.Create(global), WorkerCommands.Submit(global), WorkerCommands.Worker(global), WorkerCommands.Workers(global), NotifyCommand.Create(global), PruneCommand.Create(global),
        })
        {
            root.Subcommands.Add(command);
        }

        var parse = root.Parse(args);
        var configuration = new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null };
        if (parse.Errors.Count > 0)
        {
            foreach (var problem in parse.Errors)
            {
                error.WriteLine($"batchops: {problem.Message}");
            }

            error.WriteLine("Run 'batchops --help' for usage.");
            return ExitCodes.Usage;
        }

        try
        {
            return await parse.InvokeAsync(configuration, interrupt).ConfigureAwait(false);
        }
        catch (Exception failure) when (failure is JobSpecException or StoreException or FormatException or ArgumentOutOfRangeException or FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
        {
            error.WriteLine($"batchops: {BatchOps.Operations.TerminalText.Escape(failure.Message)}");
            return ExitCodes.Usage;
        }
        catch (OperationCanceledException) when (interrupt.IsCancellationRequested)
        {
            error.WriteLine("batchops: interrupted.");
            return ExitCodes.Interrupted;
        }
    }
}
