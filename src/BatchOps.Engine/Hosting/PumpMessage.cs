namespace BatchOps.Engine.Hosting;

/// <summary>What a worker hands to the pipeline thread.</summary>
public enum PumpMessageKind
{
    /// <summary>An item result to write as output (WriteObject).</summary>
    Output,

    /// <summary>A failed item to write as a non-terminating error (WriteError).</summary>
    Error,

    /// <summary>A verbose line (WriteVerbose).</summary>
    Verbose,

    /// <summary>A debug line (WriteDebug).</summary>
    Debug,

    /// <summary>A warning (WriteWarning).</summary>
    Warning,

    /// <summary>An information record (WriteInformation).</summary>
    Information,

    /// <summary>A progress snapshot (WriteProgress); only the latest one is kept.</summary>
    Progress,

    /// <summary>An action to run on the pipeline thread (script blocks in the caller's own runspace).</summary>
    Invoke,
}

/// <summary>One message for the pipeline thread.</summary>
/// <param name="Kind">Which stream it goes to.</param>
/// <param name="Payload">The object to write.</param>
public readonly record struct PumpMessage(PumpMessageKind Kind, object? Payload);
