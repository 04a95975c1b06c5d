using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
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
            var folder = fakeBoundParameters?["Store"] as string;
            using var store = SqliteJobStore.Open(folder);
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

    private static string Quote(string text) => text.Any(c => char.IsWhiteSpace(c) || c is '\'' or '"' or '$' or '`') ? $"'{text.Replace("'", "''", StringComparison.Ordinal)}'" : text;
}
