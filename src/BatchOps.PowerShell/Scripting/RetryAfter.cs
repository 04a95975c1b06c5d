#pragma warning disable IDE0130 // Users type the short name: throw [BatchOps.RetryAfter]::new(30).
namespace BatchOps;
#pragma warning restore IDE0130

/// <summary>
/// Thrown by a script block to ask for another attempt after a delay of its choosing, for APIs that say "slow
/// down" in the body rather than with a status: <c>throw [BatchOps.RetryAfter]::new(30)</c> (seconds),
/// <c>::new(30, 'quota used up')</c> or <c>::new([timespan]'0:1:0')</c>. The item is retried (within
/// -RetryCount) after that delay, capped by -MaxRetryDelay and the job's timeout; its error type is RetryAfter.
/// </summary>
public sealed class RetryAfter : Exception
{
    /// <summary>Asks for another attempt after one second.</summary>
    public RetryAfter()
        : this(TimeSpan.FromSeconds(1))
    {
    }

    /// <summary>Asks for another attempt after one second, saying why.</summary>
    public RetryAfter(string message)
        : this(TimeSpan.FromSeconds(1), message)
    {
    }

    /// <summary>Asks for another attempt after one second, saying why and keeping the cause.</summary>
    public RetryAfter(string message, Exception innerException)
        : base(message, innerException) => Delay = TimeSpan.FromSeconds(1);

    /// <summary>Asks for another attempt after <paramref name="seconds"/> seconds.</summary>
    public RetryAfter(double seconds)
        : this(Seconds(seconds))
    {
    }

    /// <summary>Asks for another attempt after <paramref name="seconds"/> seconds, saying why.</summary>
    public RetryAfter(double seconds, string message)
        : this(Seconds(seconds), message)
    {
    }

    /// <summary>Asks for another attempt after <paramref name="delay"/>.</summary>
    public RetryAfter(TimeSpan delay)
        : this(delay, $"The script asked for another attempt in {delay.TotalSeconds:0.###} s.")
    {
    }

    /// <summary>Asks for another attempt after <paramref name="delay"/>, saying why.</summary>
    public RetryAfter(TimeSpan delay, string message)
        : base(message)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        Delay = delay;
    }

    /// <summary>The error type recorded for an item whose last attempt asked for a retry.</summary>
    public const string ErrorType = "RetryAfter";

    /// <summary>How long to wait before the next attempt.</summary>
    public TimeSpan Delay { get; }

    private static TimeSpan Seconds(double seconds) =>
        double.IsFinite(seconds) && seconds >= 0 && seconds < TimeSpan.MaxValue.TotalSeconds
            ? TimeSpan.FromSeconds(seconds)
            : throw new ArgumentOutOfRangeException(nameof(seconds), seconds, "The delay must be a number of seconds, 0 or more.");
}
