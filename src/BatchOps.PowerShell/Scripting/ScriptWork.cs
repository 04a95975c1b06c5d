using System.Collections.ObjectModel;
using System.Management.Automation;

namespace BatchOps.PowerShell.Scripting;

/// <summary>
/// One invocation handed to a worker runspace's driver loop: the input, the variables ($_ and $PSItem) and
/// arguments to invoke the script block with, and the task the engine awaits. Public because the driver
/// script (PowerShell) calls its methods; not meant for users.
/// </summary>
public sealed class ScriptWork
{
    private readonly TaskCompletionSource<object?> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
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
    public void Complete(Collection<PSObject>? output)
    {
        object? result = output is null || output.Count == 0 ? null : output.Count == 1 ? output[0] : output.ToArray();
        Worker?.Finished(this);
        if (Interlocked.Exchange(ref _state, 2) == 1)
        {
            _done.TrySetResult(result);
        }
    }

    /// <summary>Called by the driver with the error that ended the invocation.</summary>
    public void Fail(ErrorRecord error)
    {
        Worker?.Finished(this);
        if (Interlocked.Exchange(ref _state, 2) == 1)
        {
            _done.TrySetException(new ScriptItemException(ScriptError(error)));
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
            _done.TrySetException(new InvalidOperationException("The worker runspace running this item was stopped before the item finished; it will run again on a retry."));
        }
    }

    internal void Cancel(CancellationToken token)
    {
        if (Interlocked.Exchange(ref _state, 2) != 2)
        {
            _done.TrySetCanceled(token);
        }
    }
}
