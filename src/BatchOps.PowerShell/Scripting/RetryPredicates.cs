using System.Management.Automation;
using BatchOps.Engine.Hosting;

namespace BatchOps.PowerShell.Scripting;

/// <summary>
/// A job's -RetryOn / -NoRetryOn script blocks, asked about a failed item in the runspace that ran it (a worker
/// runspace, or the caller's with -UseCallerRunspace), on that runspace's own thread: no runspace is opened for
/// them. $_ is the item's error record. -NoRetryOn answering true means no retry; then -RetryOn's answer decides.
/// A block that throws counts as "no retry", and why is kept in the item's error detail.
/// </summary>
internal sealed class RetryPredicates
{
    private readonly string? _retryOn;
    private readonly string? _noRetryOn;

    private RetryPredicates(string? retryOn, string? noRetryOn) => (_retryOn, _noRetryOn) = (retryOn, noRetryOn);

    /// <summary>The spec's predicates, or null when it has none.</summary>
    public static RetryPredicates? Of(ScriptOperationSpec spec) =>
        spec.RetryOnScript is null && spec.NoRetryOnScript is null ? null : new RetryPredicates(spec.RetryOnScript, spec.NoRetryOnScript);

    /// <summary>The failure of an item as the engine sees it, with the predicates' answer in it.</summary>
    public static ScriptItemException Failure(RetryPredicates? predicates, ErrorRecord error) =>
        predicates is null ? new ScriptItemException(error) : predicates.Decide(error);

    private ScriptItemException Decide(ErrorRecord error)
    {
        if (_noRetryOn is not null)
        {
            var (never, broken) = Ask(_noRetryOn, "-NoRetryOn", error);
            if (never || broken is not null)
            {
                return new ScriptItemException(error, retry: false, broken);
            }
        }

        if (_retryOn is not null)
        {
            var (retry, broken) = Ask(_retryOn, "-RetryOn", error);
            return new ScriptItemException(error, retry: retry && broken is null, broken);
        }

        return new ScriptItemException(error);
    }

    // Created on the thread that asks, so the block runs in that thread's runspace (the one that ran the item).
    private static (bool Answer, string? Broken) Ask(string script, string name, ErrorRecord error)
    {
        try
        {
            var answer = ScriptBlock.Create(script).InvokeWithContext(null, [new PSVariable("_", error)], error);
            return (answer.Count > 0 && LanguagePrimitives.IsTrue(answer[^1]), null);
        }
        catch (PipelineStoppedException)
        {
            // The worker's pipeline is being stopped (a timeout, a forced stop): the driver handles that.
            throw;
        }
        catch (RuntimeException failed)
        {
            return (false, $"{name} failed, so the item was not retried: {ScriptWork.ScriptError(failed.ErrorRecord)}");
        }
        catch (FlowControlException)
        {
            // break, continue or exit in the rule: it gave no answer.
            return (false, $"{name} ended without an answer (break, continue or exit), so the item was not retried.");
        }
    }
}
