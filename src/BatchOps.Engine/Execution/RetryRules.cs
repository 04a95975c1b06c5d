namespace BatchOps.Engine.Execution;

/// <summary>
/// A job's own answer to "is this error worth another attempt?" (-RetryOn / -NoRetryOn, "retryOn" /
/// "noRetryOn" in specs and settings): error type names, matched against every exception in the error's chain
/// by its recorded error type (HttpStatus, InvalidHeaderValue …), its full type name, its short name and those
/// of its base types, ignoring case. NoRetryOn wins; then, when RetryOn is given, only errors it names are
/// retried; otherwise the default classification (<see cref="RetryClassifier"/>) decides.
/// </summary>
public static class RetryRules
{
    /// <summary>The classifier for the given names, or null when neither list names anything (the default applies).</summary>
    public static Func<Exception, bool>? Classifier(IReadOnlyCollection<string>? retryOn, IReadOnlyCollection<string>? noRetryOn)
    {
        var retry = Clean(retryOn);
        var never = Clean(noRetryOn);
        if (retry is null && never is null)
        {
            return null;
        }

        return error =>
        {
            if (never is not null && Matches(error, never))
            {
                return false;
            }

            return retry is null ? RetryClassifier.IsRetryable(error) : Matches(error, retry);
        };
    }

    /// <summary>Whether <paramref name="error"/> or an exception inside it goes by one of <paramref name="names"/>.</summary>
    public static bool Matches(Exception error, IReadOnlySet<string> names)
    {
        ArgumentNullException.ThrowIfNull(error);
        ArgumentNullException.ThrowIfNull(names);
        var pending = new Stack<Exception>();
        pending.Push(error);
        while (pending.TryPop(out var current))
        {
            if (current is IFailureHints { ErrorType: { } named } && names.Contains(named))
            {
                return true;
            }

            for (var type = current.GetType(); type is not null && type != typeof(object); type = type.BaseType)
            {
                if (names.Contains(type.Name) || (type.FullName is { } full && names.Contains(full)))
                {
                    return true;
                }
            }

            if (current is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions)
                {
                    pending.Push(inner);
                }
            }
            else if (current.InnerException is { } inner)
            {
                pending.Push(inner);
            }
        }

        return false;
    }

    private static HashSet<string>? Clean(IReadOnlyCollection<string>? names)
    {
        var set = names?.Select(n => n.Trim()).Where(n => n.Length > 0).ToHashSet(StringComparer.OrdinalIgnoreCase);
        return set is { Count: > 0 } ? set : null;
    }
}
