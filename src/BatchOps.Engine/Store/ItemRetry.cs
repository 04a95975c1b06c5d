namespace BatchOps.Engine.Store;

/// <summary>
/// One failed attempt of an item that was tried again: why it failed and how long the engine waited before
/// the next attempt (a Retry-After as honoured, or the backoff). Kept only for attempts that were retried.
/// </summary>
/// <param name="Run">The job run it happened in (1 for the first); set by the store when it is read.</param>
/// <param name="Attempt">The attempt that failed, starting at 1.</param>
/// <param name="ErrorType">The failure's error type (for example HttpStatus, System.TimeoutException).</param>
/// <param name="StatusCode">The HTTP status of the answer, when the attempt got one.</param>
/// <param name="Message">The failure's message.</param>
/// <param name="Delay">How long the engine waited before the next attempt.</param>
/// <param name="At">When the attempt failed.</param>
public sealed record ItemRetry(int Run, int Attempt, string ErrorType, int? StatusCode, string Message, TimeSpan Delay, DateTimeOffset At);
