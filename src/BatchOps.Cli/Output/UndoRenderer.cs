using BatchOps.Operations;
using System.Text.Json;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;

namespace BatchOps.Cli.Output;

/// <summary>Shows a rollback on stderr: each failed compensation as it happens (the first 20), and the end.</summary>
public sealed class UndoRenderer(TextWriter error) : BatchObserver<Compensation<JsonElement, string?>, string?>
{
    private const int FailuresShown = 20;
    private int _failuresShown;

    public override void OnItemCompleted(ItemResult<Compensation<JsonElement, string?>, string?> result)
    {
        if (result.Status != ItemStatus.Failed || result.Error is null)
        {
            return;
        }

        var shown = Interlocked.Increment(ref _failuresShown);
        if (shown <= FailuresShown)
        {
            lock (error)
            {
                error.WriteLine($"UNDO FAILED item {result.Index}{(result.Key is null ? string.Empty : $" ({TerminalText.Escape(result.Key)})")}{(result.Input.Stage.Length == 0 ? string.Empty : $" of stage {result.Input.Stage}")} after {result.Attempts} attempt(s): {TerminalText.Escape(result.Error.Message)}");
            }
        }
    }
}
