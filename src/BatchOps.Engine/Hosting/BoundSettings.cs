using BatchOps.Engine.Jobs;

namespace BatchOps.Engine.Hosting;

/// <summary>
/// Turns the engine parameters a user actually passed to a cmdlet ($PSBoundParameters, switches as bool)
/// into explicit job settings, so unset ones fall through to the settings file and the defaults.
/// </summary>
public static class BoundSettings
{
    /// <summary>Names of the cmdlet parameters that are job settings.</summary>
    public static readonly string[] ParameterNames =
        ["ThrottleLimit", "ChunkSize", "RetryCount", "RetryDelay", "MaxRetryDelay", "TimeoutSeconds", "JobTimeoutSeconds", "RateLimit", "StopOnError", "MaxErrors", "PreserveOrder"];

    /// <summary>Reads the bound values: TimeoutSeconds and JobTimeoutSeconds are in seconds, RetryDelay and MaxRetryDelay in seconds or a TimeSpan.</summary>
    public static JobSettings From(IReadOnlyDictionary<string, object?> bound)
    {
        ArgumentNullException.ThrowIfNull(bound);
        int? Int(string name) => bound.TryGetValue(name, out var v) && v is not null ? Convert.ToInt32(v, System.Globalization.CultureInfo.InvariantCulture) : null;
        double? Double(string name) => bound.TryGetValue(name, out var v) && v is not null ? Convert.ToDouble(v, System.Globalization.CultureInfo.InvariantCulture) : null;
        bool? Bool(string name) => bound.TryGetValue(name, out var v) && v is bool b ? b : null;
        double? Seconds(string name) => bound.TryGetValue(name, out var v) && v is TimeSpan span ? span.TotalSeconds : Double(name);
        static int? Milliseconds(double? seconds) => seconds is { } s ? (int)Math.Clamp(Math.Round(s * 1000), int.MinValue, int.MaxValue) : null;
        return new JobSettings
        {
            ThrottleLimit = Int("ThrottleLimit"),
            ChunkSize = Int("ChunkSize"),
            RetryCount = Int("RetryCount"),
            RetryDelayMs = Milliseconds(Seconds("RetryDelay")),
            MaxRetryDelayMs = Milliseconds(Seconds("MaxRetryDelay")),
            TimeoutSeconds = Double("TimeoutSeconds"),
            JobTimeoutSeconds = Double("JobTimeoutSeconds"),
            RateLimit = Double("RateLimit"),
            StopOnError = Bool("StopOnError"),
            MaxErrors = Int("MaxErrors"),
            PreserveOrder = Bool("PreserveOrder"),
        };
    }

    /// <summary>The cmdlet parameter behind an engine setting (for error messages): Timeout → TimeoutSeconds.</summary>
    public static string ParameterFor(string? setting) => setting switch
    {
        "Timeout" => "TimeoutSeconds",
        "JobTimeout" => "JobTimeoutSeconds",
        null => "?",
        _ => setting,
    };
}
