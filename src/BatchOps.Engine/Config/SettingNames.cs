using System.Text.Json;

namespace BatchOps.Engine.Config;

/// <summary>Turns engine setting names and JSON errors into the names users write in JSON files.</summary>
public static class SettingNames
{
    /// <summary>The JSON names of every job setting.</summary>
    public const string Valid =
        "chunkSize, throttleLimit, retryCount, retryDelayMs, maxRetryDelayMs, retryOn, noRetryOn, timeoutSeconds, jobTimeoutSeconds, rateLimit, stopOnError, maxErrors, preserveOrder, onFailure (continue or rollback)";

    private static readonly Dictionary<string, string> JsonNames = new(StringComparer.Ordinal)
    {
        ["ChunkSize"] = "chunkSize",
        ["ThrottleLimit"] = "throttleLimit",
        ["RetryCount"] = "retryCount",
        ["RetryDelay"] = "retryDelayMs",
        ["MaxRetryDelay"] = "maxRetryDelayMs",
        ["Timeout"] = "timeoutSeconds",
        ["JobTimeout"] = "jobTimeoutSeconds",
        ["RateLimit"] = "rateLimit",
        ["MaxErrors"] = "maxErrors",
    };

    /// <summary>The JSON name of an engine setting (ThrottleLimit → throttleLimit).</summary>
    public static string JsonName(string? setting) =>
        setting is not null && JsonNames.TryGetValue(setting, out var name) ? name : setting ?? "?";

    /// <summary>A message for a bad setting in a JSON file, naming the field and the fix.</summary>
    public static string Explain(Exception error) => error switch
    {
        ArgumentOutOfRangeException range => $"setting \"{JsonName(range.ParamName)}\" is out of range: {RangeText(range)}",
        JsonException json when json.Message.Contains("could not be mapped", StringComparison.Ordinal) =>
            $"{UnknownMember(json)}. Valid settings: {Valid}.",
        JsonException json => $"{json.Message} (path {json.Path ?? "$"})",
        _ => error.Message,
    };

    private static string UnknownMember(JsonException error)
    {
        // System.Text.Json: "The JSON property 'x' could not be mapped to any .NET member contained in type ..."
        var start = error.Message.IndexOf('\'', StringComparison.Ordinal);
        var end = start < 0 ? -1 : error.Message.IndexOf('\'', start + 1);
        return end > start ? $"unknown setting \"{error.Message[(start + 1)..end]}\"" : "unknown setting";
    }

    private static string RangeText(ArgumentOutOfRangeException error)
    {
        var message = error.Message;
        var use = message.IndexOf("use ", StringComparison.Ordinal);
        var end = message.IndexOf(" (Parameter", StringComparison.Ordinal);
        return use >= 0 ? message[use..(end > use ? end : message.Length)].TrimEnd('.') + "." : message;
    }
}
