using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Management.Automation.Runspaces;
using BatchOps.Engine.Store;

namespace BatchOps.PowerShell.Completion;

/// <summary>Tab completion of job names and ids from the store (honours -Store when it is already typed).</summary>
public sealed class JobCompleter : IArgumentCompleter
{
    /// <inheritdoc/>
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        try
        {
            using var store = Commands.StoreTarget.From(fakeBoundParameters?["Store"] as string ?? DefaultStore(commandName), Path.GetFullPath).Open();
            var prefix = (wordToComplete ?? string.Empty).Trim('\'', '"');
            var jobs = store.FindJobsAsync(new JobQuery { Newest = 200 }).GetAwaiter().GetResult();
            return jobs
                .SelectMany(j => new[] { (Text: j.Name, Job: j), (Text: j.Id, Job: j) })
                .Where(c => c.Text.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                .DistinctBy(c => c.Text, StringComparer.OrdinalIgnoreCase)
                .Select(c => new CompletionResult(Quote(c.Text), c.Text, CompletionResultType.ParameterValue, $"{c.Job.Name} ({c.Job.Id}) {c.Job.Status}"))
                .ToList();
        }
        catch (StoreException)
        {
            return [];
        }
    }

    /// <summary>The -Store that $PSDefaultParameterValues gives this command, as the command itself would get it.</summary>
    internal static string? DefaultStore(string commandName)
    {
        if (Runspace.DefaultRunspace is null)
        {
            return null;
        }

        using var shell = System.Management.Automation.PowerShell.Create(RunspaceMode.CurrentRunspace);
        shell.AddScript("""
            param($Command)
            foreach ($key in @($PSDefaultParameterValues.Keys)) {
                $parts = "$key".Split(':')
                if ($parts.Count -eq 2 -and $parts[1] -eq 'Store' -and $Command -like $parts[0]) { return "$($PSDefaultParameterValues[$key])" }
            }
            """).AddArgument(commandName);
        try
        {
            return shell.Invoke().FirstOrDefault()?.BaseObject as string;
        }
        catch (RuntimeException)
        {
            return null;
        }
    }

    internal static string Quote(string text) => text.Any(c => char.IsWhiteSpace(c) || c is '\'' or '"' or '$' or '`') ? $"'{text.Replace("'", "''", StringComparison.Ordinal)}'" : text;
}
