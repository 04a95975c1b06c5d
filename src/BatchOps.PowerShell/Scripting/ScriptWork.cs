using System.Collections.ObjectModel;
using System.Management.Automation;

namespace BatchOps.PowerShell.Scripting;

/// <summary>
/// One invocation handed to a worker runspace's driver loop: the input, the variables ($_ and $PSItem) and
/// arguments to invoke the script block with, and the task the engine awaits.
/// </summary>
internal sealed class ScriptWork
{
    // Continuations run inline on the thread that completes the work: on a driver thread, the engine then
    // records the outcome and hands that same driver its next item without waking any other thread.
    private readonly TaskCompletionSource<object?> _done = new();
    private CancellationTokenRegistration _cancellation;
    private int _state;

    internal ScriptWork(object? input, object?[] argumentList)
    {
        Input = input;
        Arguments = [input, .. argumentList];
        // InvokeWithContext binds "_" as the pipeline variable, which also makes $PSItem work.
        Variables = [new PSVariable("_", input)];
    }

    /// <summary>The item (or the chunk's array).</summary>
    public object? Input { get; }

    /// <summary>The item first, then -ArgumentList.</summary>
    public object?[] Arguments { get; }

    /// <summary>$_ (and so $PSItem), plus the $using: values in the caller's runspace mode.</summary>
    public List<PSVariable> Variables { get; }

    internal Task<object?> Task => _done.Task;

    /// <summary>Cancels the work when <paramref name="token"/> fires (a timeout or a forced stop); released when it ends.</summary>
    internal void CancelWith(CancellationToken token, Action<ScriptWork, CancellationToken> onCancel)
    {
        if (token.CanBeCanceled)
        {
            _cancellation = token.UnsafeRegister(static (state, t) =>
            {
                var (work, action) = ((ScriptWork, Action<ScriptWork, CancellationToken>))state!;
                action(work, t);
            }, (this, onCancel));
        }
    }

    internal ScriptWorker? Worker { get; private set; }

    /// <summary>Marks the work taken by a worker (null: the caller's runspace); false when it was cancelled while queued.</summary>
    internal bool Begin(ScriptWorker? worker)
    {
        Worker = worker;
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
        {
            return false;
        }

        worker?.Took(this);
        return true;
    }

    /// <summary>Called by the driver with the script block's output.</summary>
    internal void Complete(Collection<PSObject>? output)
    {
        object? result = output is null || output.Count == 0 ? null : output.Count == 1 ? output[0] : output.ToArray();
        Worker?.Finished(this);
        if (Interlocked.Exchange(ref _state, 2) == 1)
        {
            _cancellation.Unregister();
            using (ScriptWorker.HandBackTo(Worker))
            {
                _done.TrySetResult(result);
            }
        }
    }

    /// <summary>
    /// Called by the driver with the error that ended the invocation, on the thread of the runspace that ran it
    /// (where the job's -RetryOn / -NoRetryOn blocks are asked).
    /// </summary>
    internal void Fail(ErrorRecord error, RetryPredicates? predicates)
    {
        var failure = RetryPredicates.Failure(predicates, ScriptError(error));
        Worker?.Finished(this);
        if (Interlocked.Exchange(ref _state, 2) == 1)
        {
            _cancellation.Unregister();
            using (ScriptWorker.HandBackTo(Worker))
            {
                _done.TrySetException(failure);
            }
        }
    }

    /// <summary>
    /// The script's own error: the driver calls the block as a .NET method, which wraps whatever the script
    /// threw in "Exception calling InvokeWithContext…"; users want 'big', not the wrapper.
    /// </summary>
    internal static ErrorRecord ScriptError(ErrorRecord error)
    {
        while (error.Exception is MethodInvocationException { InnerException: IContainsErrorRecord inner })
        {
            error = inner.ErrorRecord;
        }

        return error;
    }

    /// <summary>The worker's pipeline ended under this work (stopped for another item, or broken).</summary>
    internal void Abort()
    {
        if (Interlocked.Exchange(ref _state, 2) == 1)
        {
            _cancellation.Unregister();
            _done.TrySetException(new InvalidOperationException("The worker runspace running this item was stopped before the item finished; it will run again on a retry."));
        }
    }

    internal void Cancel(CancellationToken token)
    {
        if (Interlocked.Exchange(ref _state, 2) != 2)
        {
            _cancellation.Unregister();
            _done.TrySetCanceled(token);
        }
    }
}
