using BatchOps.Engine.Jobs;

namespace BatchOps.Engine.Hosting;

/// <summary>
/// Everything a cmdlet needs to write a failed item as a non-terminating ErrorRecord, decided here so it
/// is tested without PowerShell: a stable error id, the category, the message and the target.
/// </summary>
/// <param name="ErrorId">Stable id; FullyQualifiedErrorId is "ErrorId,CommandType".</param>
/// <param name="Category">Name of a System.Management.Automation.ErrorCategory value.</param>
/// <param name="Message">The record's message.</param>
/// <param name="Target">The item result, as TargetObject.</param>
public sealed record ErrorRecordInfo(string ErrorId, string Category, string Message, BatchOps.BatchItemResult Target)
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

    /// <summary>Builds the error record description of a failed item.</summary>
    public static ErrorRecordInfo ForFailedItem(BatchOps.BatchItemResult item)
    {
        ArgumentNullException.ThrowIfNull(item);
        var error = item.Error ?? new ItemError("Unknown", "The item failed.", null, false);
        var timedOut = error.Type.EndsWith("TimeoutRejectedException", StringComparison.Ordinal) || error.Type.EndsWith(".TimeoutException", StringComparison.Ordinal);
        var name = item.Key is null ? $"item {item.Index}" : $"item {item.Index} ({item.Key})";
        return new ErrorRecordInfo(
            timedOut ? ItemTimedOutId : ItemFailedId,
            CategoryFor(error.Type),
            $"Job {item.JobId}: {name} failed after {item.Attempts} attempt(s): {error.Message}",
            item);
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
        _ => "NotSpecified",
    };
}
