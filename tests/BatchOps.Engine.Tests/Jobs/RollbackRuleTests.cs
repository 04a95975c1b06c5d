using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;

namespace BatchOps.Engine.Tests.Jobs;

/// <summary>The one rule by which a run in one process and a queued job ended by workers decide to roll back.</summary>
public class RollbackRuleTests
{
    private static ItemCounts Counts(long succeeded, long failed = 0, long pending = 0) =>
        new() { Succeeded = succeeded, Failed = failed, Pending = pending };

    [Theory]
    [InlineData(StopReason.None, 3, 1, 0, "1 item(s) failed")]
    [InlineData(StopReason.None, 3, 0, 2, "2 item(s) did not run")]
    [InlineData(StopReason.ErrorPolicy, 3, 1, 5, "the error policy stopped the job")]
    [InlineData(StopReason.JobTimeout, 3, 0, 5, "the job timed out")]
    [InlineData(StopReason.Fault, 3, 0, 5, "the run failed")]
    public void Reason_RollbackJobThatDidNotComplete_NamesWhy(StopReason stop, long succeeded, long failed, long pending, string expected)
    {
        Assert.Equal(expected, RollbackRule.Reason(FailureAction.Rollback, canUndo: true, stop, Counts(succeeded, failed, pending)));
    }

    [Fact]
    public void Reason_EveryItemSucceeded_DoesNotRollBack()
    {
        Assert.Null(RollbackRule.Reason(FailureAction.Rollback, canUndo: true, StopReason.None, Counts(10)));
    }

    [Fact]
    public void Reason_CancelledByItsUser_NeverRollsBack()
    {
        Assert.Null(RollbackRule.Reason(FailureAction.Rollback, canUndo: true, StopReason.Cancelled, Counts(3, 1, 5)));
    }

    [Theory]
    [InlineData(FailureAction.Continue, true)]
    [InlineData(null, true)]
    [InlineData(FailureAction.Rollback, false)]
    public void Reason_NotAskedForOrNothingToUndo_DoesNotRollBack(FailureAction? onFailure, bool canUndo)
    {
        Assert.Null(RollbackRule.Reason(onFailure, canUndo, StopReason.ErrorPolicy, Counts(3, 1, 5)));
    }
}
