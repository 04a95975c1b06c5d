namespace BatchOps.Engine.Hosting;

/// <summary>
/// Everything a cmdlet needs to write a failed item as a non-terminating ErrorRecord, decided here so it
/// is tested without PowerShell: a stable error id, the category, the message and the target.
/// </summary>
/// <param name="ErrorId">Stable id; FullyQualifiedErrorId is "ErrorId,CommandType".</param>
/// <param name="Category">Name of a System.Management.Automation.ErrorCategory value.</param>
/// <param name="Message">The record's message.</param>
public sealed record ErrorRecordInfo(string ErrorId, string Category, string Message)
{
    /// <summary>Error id of a failed item.</summary>
    public const string ItemFailedId = "BatchOps.ItemFailed";

    /// <summary>Error id of an item that timed out.</summary>
    public const string ItemTimedOutId = "BatchOps.ItemTimedOut";

    /// <summary>Error id of a run that ended in a fault or was stopped by its error policy.</summary>
    public const string JobFailedId = "BatchOps.JobFailed";

    /// <summary>Error id of an invalid setting.</summary>
    public const string InvalidSettingId = "BatchOps.InvalidSetting";

    /// <summary>Error id of a job that does not exist.</summary>
    public const string JobNotFoundId = "BatchOps.JobNotFound";

    /// <summary>Error id of a job already running elsewhere.</summary>
    public const string JobBusyId = "BatchOps.JobBusy";

    /// <summary>Error id of an unusable store.</summary>
    public const string StoreErrorId = "BatchOps.StoreError";

    /// <summary>Error id of a run that needs secret $using: values which are never stored and were not passed (-UsingValue).</summary>
    public const string SecretsMissingId = "BatchOps.SecretsMissing";

    /// <summary>Error id of -Queue for a job with secret values, which never reach the store and so never a worker.</summary>
    public const string SecretNotQueueableId = "BatchOps.SecretNotQueueable";

    /// <summary>Error id of a sql operation whose table, columns, key or connection do not fit (Write-BatchTable, resume).</summary>
    public const string InvalidSqlTargetId = "BatchOps.InvalidSqlTarget";

    /// <summary>Builds the error record description of a failed item (the cmdlet adds the item as TargetObject).</summary>
    /// <param name="jobId">The job's id.</param>
    /// <param name="index">The item's index.</param>
    /// <param name="key">The item's key, if any.</param>
    /// <param name="attempts">Attempts made.</param>
    /// <param name="errorType">Full name of the exception type; null when unknown.</param>
    /// <param name="errorMessage">The error's message; null when unknown.</param>
    /// <param name="input">A short form of the item's input, named beside the index when the item has no key (users do not count from 0).</param>
    public static ErrorRecordInfo ForFailedItem(string jobId, long index, string? key, int attempts, string? errorType, string? errorMessage, string? input = null)
    {
        var type = errorType ?? "Unknown";
        var timedOut = type.EndsWith("TimeoutRejectedException", StringComparison.Ordinal) || type.EndsWith(".TimeoutException", StringComparison.Ordinal);
        var name = key is not null ? $"item {index} ({key})" : input is { Length: > 0 } shown ? $"item {index} (input {Short(shown)})" : $"item {index}";
        return new ErrorRecordInfo(
            timedOut ? ItemTimedOutId : ItemFailedId,
            CategoryFor(type),
            $"Job {jobId}: {name} failed after {attempts} attempt(s): {errorMessage ?? "The item failed."}");
    }

    /// <summary>At most 40 characters of an input, on one line.</summary>
    private static string Short(string input)
    {
        var line = input.ReplaceLineEndings(" ");
        return line.Length > 40 ? line[..37] + "..." : line;
    }

    /// <summary>Maps an exception type name to an ErrorCategory name.</summary>
    public static string CategoryFor(string exceptionType) => exceptionType switch
    {
        _ when exceptionType.EndsWith("TimeoutRejectedException", StringComparison.Ordinal) || exceptionType.EndsWith(".TimeoutException", StringComparison.Ordinal) => "OperationTimeout",
        _ when exceptionType.EndsWith(".UnauthorizedAccessException", StringComparison.Ordinal) || exceptionType.EndsWith("SecurityException", StringComparison.Ordinal) => "PermissionDenied",
        _ when exceptionType.EndsWith("NotFoundException", StringComparison.Ordinal) => "ObjectNotFound",
        _ when exceptionType.Contains("Argument", StringComparison.Ordinal) || exceptionType.EndsWith(".FormatException", StringComparison.Ordinal) => "InvalidArgument",
        _ when exceptionType.EndsWith("OperationCanceledException", StringComparison.Ordinal) || exceptionType.EndsWith("PipelineStoppedException", StringComparison.Ordinal) => "OperationStopped",
        _ when exceptionType.StartsWith("System.IO.", StringComparison.Ordinal) || exceptionType.Contains("Http", StringComparison.Ordinal) || exceptionType.Contains("Socket", StringComparison.Ordinal) => "ConnectionError",
        _ when exceptionType.EndsWith(".InvalidOperationException", StringComparison.Ordinal) => "InvalidOperation",
        _ when exceptionType.EndsWith(".SqlRowException", StringComparison.Ordinal) => "InvalidData",
        _ when exceptionType.EndsWith(".PostgresException", StringComparison.Ordinal) || exceptionType.EndsWith(".SqliteException", StringComparison.Ordinal) => "WriteError",
        _ => "NotSpecified",
    };
}
