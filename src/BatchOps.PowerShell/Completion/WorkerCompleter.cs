using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using BatchOps.Engine.Store;
using BatchOps.Engine.Workers;

namespace BatchOps.PowerShell.Completion;

/// <summary>Tab completion of worker names from a PostgreSQL store's list of workers (honours -Store when it is already typed).</summary>
public sealed class WorkerCompleter : IArgumentCompleter
{
    /// <inheritdoc/>
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        try
        {
            using var store = Commands.StoreTarget.From(fakeBoundParameters?["Store"] as string ?? JobCompleter.DefaultStore(commandName), Path.GetFullPath).Open();
            if (store is not IWorkQueue queue)
            {
                return [];
            }

            var prefix = (wordToComplete ?? string.Empty).Trim('\'', '"');
            return queue.ListWorkersAsync().GetAwaiter().GetResult()
                .Where(w => w.Name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                .DistinctBy(w => w.Name, StringComparer.OrdinalIgnoreCase)
                .Select(w => new CompletionResult(JobCompleter.Quote(w.Name), w.Name, CompletionResultType.ParameterValue, $"{w.Name} on {w.Host} (process {w.ProcessId}) {w.State}"))
                .ToList();
        }
        catch (StoreException)
        {
            return [];
        }
    }
}
