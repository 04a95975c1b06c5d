using System.Net.Http.Headers;
using BatchOps.Engine.Execution;
using BatchOps.Engine.Jobs;

namespace BatchOps.Engine.Tests.Execution;

public class HttpFailureTests
{
    [Theory]
    [InlineData(400, false)]
    [InlineData(401, false)]
    [InlineData(404, false)]
    [InlineData(409, false)]
    [InlineData(408, true)]
    [InlineData(429, true)]
    [InlineData(500, true)]
    [InlineData(503, true)]
    public void IsRetryable_FollowsTheStatus(int status, bool retryable) =>
        Assert.Equal(retryable, HttpFailure.IsRetryable(status));

    [Fact]
    public void RetryAfter_ReadsSecondsAndDates_RelativeToNow()
    {
        var now = new DateTimeOffset(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

        Assert.Equal(TimeSpan.FromSeconds(7), HttpFailure.RetryAfter(new RetryConditionHeaderValue(TimeSpan.FromSeconds(7)), now));
        Assert.Equal(TimeSpan.FromSeconds(30), HttpFailure.RetryAfter(new RetryConditionHeaderValue(now.AddSeconds(30)), now));
        Assert.Equal(TimeSpan.Zero, HttpFailure.RetryAfter(new RetryConditionHeaderValue(now.AddSeconds(-30)), now));
        Assert.Null(HttpFailure.RetryAfter(null, now));
    }

    [Fact]
    public void AnyExceptionWithFailureHints_DecidesItsRetryAndItsErrorType()
    {
        var permanent = new HintedException(isRetryable: false, errorType: HttpFailure.ErrorType);

        Assert.False(RetryClassifier.IsRetryable(permanent));
        Assert.Equal(HttpFailure.ErrorType, ItemError.FromException(permanent, isRetryable: false).Type);
        Assert.True(RetryClassifier.IsRetryable(new HintedException(isRetryable: true, errorType: null)));
        Assert.Equal(typeof(HintedException).FullName, ItemError.FromException(new HintedException(true, null), isRetryable: true).Type);
    }

    private sealed class HintedException(bool isRetryable, string? errorType) : Exception("hinted"), IFailureHints
    {
        public bool IsRetryable { get; } = isRetryable;

        public TimeSpan? RetryAfter => null;

        public string? ErrorType { get; } = errorType;

        public int? StatusCode => null;
    }
}
