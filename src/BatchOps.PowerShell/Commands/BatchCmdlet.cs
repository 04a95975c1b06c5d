using System.Management.Automation;
using BatchOps.Engine.Hosting;
using BatchOps.Engine.Store;
using BatchOps.PowerShell.Output;

namespace BatchOps.PowerShell.Commands;

/// <summary>
/// What every BatchOps cmdlet shares: the -Store parameter, opening the store, turning engine errors into
/// ErrorRecords with stable ids, and writing pump messages to the right stream on the pipeline thread.
/// </summary>
public abstract class BatchCmdlet : PSCmdlet, IDisposable
{
    private IJobStore? _store;

    /// <summary>Folder of the job store. The default is $env:BATCHOPS_HOME, else the user's data folder.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Store { get; set; }

    /// <summary>The run this command is draining, if any; Ctrl+C (StopProcessing) cancels it.</summary>
    internal JobRunSession? ActiveRun { get; set; }

    /// <summary>The store, opened on first use; a store that cannot be used ends the command.</summary>
    internal IJobStore JobStore
    {
        get
        {
            if (_store is null)
            {
                try
                {
                    _store = SqliteJobStore.Open(Store is null ? null : GetUnresolvedProviderPathFromPSPath(Store));
                }
                catch (StoreException error)
                {
                    ThrowTerminatingError(new ErrorRecord(error, ErrorRecordInfo.StoreErrorId, ErrorCategory.ResourceUnavailable, Store));
                }
            }

            return _store!;
        }
    }

    /// <summary>The store folder in use (for logs and settings).</summary>
    internal string StoreFolder => StoreLocation.ResolveFolder(Store is null ? null : GetUnresolvedProviderPathFromPSPath(Store));

    /// <summary>Finds a job by id or name; writes a JobNotFound error and returns null when there is none.</summary>
    internal JobRecord? FindJob(string idOrName)
    {
        try
        {
            return JobResolver.ResolveAsync(JobStore, idOrName).GetAwaiter().GetResult();
        }
        catch (StoreException error)
        {
            WriteError(new ErrorRecord(error, ErrorRecordInfo.JobNotFoundId, ErrorCategory.ObjectNotFound, idOrName));
            return null;
        }
    }

    /// <summary>Writes one pump message to its stream. Pipeline thread only (the pump enforces it).</summary>
    internal void Write(PumpMessage message)
    {
        switch (message.Kind)
        {
            case PumpMessageKind.Output:
                WriteObject(message.Payload);
                break;
            case PumpMessageKind.Error:
                var item = (BatchItemResult)message.Payload!;
                var info = OutputViews.ErrorOf(item);
                var exception = item.Error?.Exception ?? new InvalidOperationException(info.Message);
                WriteError(new ErrorRecord(exception, info.ErrorId, Enum.Parse<ErrorCategory>(info.Category), item)
                {
                    ErrorDetails = new ErrorDetails(info.Message),
                });
                break;
            case PumpMessageKind.Verbose:
                WriteVerbose((string)message.Payload!);
                break;
            case PumpMessageKind.Debug:
                WriteDebug((string)message.Payload!);
                break;
            case PumpMessageKind.Warning:
                WriteWarning((string)message.Payload!);
                break;
            case PumpMessageKind.Information:
                WriteInformation((InformationRecord)message.Payload!);
                break;
            case PumpMessageKind.Progress:
                var view = (ProgressView)message.Payload!;
                WriteProgress(new ProgressRecord(view.ActivityId, view.Activity, view.StatusDescription)
                {
                    PercentComplete = view.PercentComplete,
                    SecondsRemaining = view.SecondsRemaining,
                    RecordType = view.Completed ? ProgressRecordType.Completed : ProgressRecordType.Processing,
                });
                break;
            case PumpMessageKind.Invoke:
                ((Action)message.Payload!)();
                break;
        }
    }

    /// <summary>Ends the command for an invalid setting, naming the parameter and its valid range.</summary>
    internal void ThrowInvalidSetting(ArgumentOutOfRangeException error)
    {
        var parameter = BoundSettings.ParameterFor(error.ParamName);
        var message = error.Message.Replace($"{error.ParamName} ", $"-{parameter} ", StringComparison.Ordinal);
        ThrowTerminatingError(new ErrorRecord(new ArgumentOutOfRangeException(parameter, error.ActualValue, message), ErrorRecordInfo.InvalidSettingId, ErrorCategory.InvalidArgument, error.ActualValue));
    }

    /// <summary>The bound parameters with switches as bool, for <see cref="BoundSettings"/>.</summary>
    internal IReadOnlyDictionary<string, object?> BoundValues() =>
        MyInvocation.BoundParameters.ToDictionary(p => p.Key, p => p.Value is SwitchParameter s ? s.IsPresent : (object?)p.Value, StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The caller's effective stream preferences (-Verbose, -InformationAction … over $VerbosePreference …),
    /// for the worker runspaces, so what a script writes there is produced exactly when the caller wants it.
    /// Inquire becomes Continue: a worker cannot prompt.
    /// </summary>
    internal Dictionary<string, object> StreamPreferences()
    {
        var bound = MyInvocation.BoundParameters;
        ActionPreference Effective(string variable, string? actionParameter, string? switchParameter)
        {
            if (switchParameter is not null && bound.TryGetValue(switchParameter, out var on) && on is SwitchParameter s)
            {
                return s.IsPresent ? ActionPreference.Continue : ActionPreference.SilentlyContinue;
            }

            if (actionParameter is not null && bound.TryGetValue(actionParameter, out var action) && action is ActionPreference a)
            {
                return a;
            }

            return SessionState.PSVariable.GetValue(variable) is ActionPreference p ? p
                : Enum.TryParse<ActionPreference>(SessionState.PSVariable.GetValue(variable)?.ToString(), true, out var parsed) ? parsed
                : ActionPreference.SilentlyContinue;
        }

        var preferences = new Dictionary<string, object>(StringComparer.OrdinalIgnoreCase)
        {
            ["VerbosePreference"] = Effective("VerbosePreference", null, "Verbose"),
            ["DebugPreference"] = Effective("DebugPreference", null, "Debug"),
            ["InformationPreference"] = Effective("InformationPreference", "InformationAction", null),
            ["WarningPreference"] = Effective("WarningPreference", "WarningAction", null),
        };
        foreach (var name in preferences.Keys.ToList())
        {
            if (preferences[name] is ActionPreference.Inquire)
            {
                preferences[name] = ActionPreference.Continue;
            }
        }

        return preferences;
    }

    /// <summary>Ctrl+C: cancels the active run (running attempts too); the job stays resumable.</summary>
    protected override void StopProcessing() => ActiveRun?.Cancel(CloseInput);

    /// <summary>Ends the input of the active run (Ctrl+C); commands that stream input override it.</summary>
    internal virtual void CloseInput()
    {
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the store and what derived cmdlets hold.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            ActiveRun?.Dispose();
            _store?.Dispose();
        }
    }
}
