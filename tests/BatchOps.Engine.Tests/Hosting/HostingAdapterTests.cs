using BatchOps.Engine.Execution;
using BatchOps.Engine.Hosting;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Progress;
using BatchOps.Engine.Store;

namespace BatchOps.Engine.Tests.Hosting;

public class HostingAdapterTests
{
    [Fact]
    public void UsingRewriter_ReplacesEachReferenceWithItsVariable()
    {
        const string script = "Get-Thing -Path $using:root -Name $_; $using:cfg.Depth + ${using:my-var}";
        var references = new[]
        {
            new UsingReference(script.IndexOf("$using:root", StringComparison.Ordinal), "$using:root".Length, "root"),
            new UsingReference(script.IndexOf("$using:cfg", StringComparison.Ordinal), "$using:cfg".Length, "cfg"),
            new UsingReference(script.IndexOf("${using:my-var}", StringComparison.Ordinal), "${using:my-var}".Length, "my-var"),
        };

        var rewritten = UsingRewriter.Rewrite(script, references);

        Assert.Equal("Get-Thing -Path $__BatchOpsUsing_root -Name $_; $__BatchOpsUsing_cfg.Depth + $__BatchOpsUsing_my_var", rewritten);
    }

    [Fact]
    public void UsingRewriter_ReferenceOutsideScript_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => UsingRewriter.Rewrite("$x", [new UsingReference(1, 10, "x")]));

    [Theory]
    [InlineData("Polly.Timeout.TimeoutRejectedException", "OperationTimeout", ErrorRecordInfo.ItemTimedOutId)]
    [InlineData("System.UnauthorizedAccessException", "PermissionDenied", ErrorRecordInfo.ItemFailedId)]
    [InlineData("System.Management.Automation.ItemNotFoundException", "ObjectNotFound", ErrorRecordInfo.ItemFailedId)]
    [InlineData("System.ArgumentException", "InvalidArgument", ErrorRecordInfo.ItemFailedId)]
    [InlineData("System.IO.IOException", "ConnectionError", ErrorRecordInfo.ItemFailedId)]
    [InlineData("System.Management.Automation.RuntimeException", "NotSpecified", ErrorRecordInfo.ItemFailedId)]
    public void ErrorRecordInfo_FailedItem_HasStableIdCategoryAndMessage(string type, string category, string id)
    {
        var info = ErrorRecordInfo.ForFailedItem("abc", 7, "web07", 3, type, "boom");

        Assert.Equal((id, category), (info.ErrorId, info.Category));
        Assert.Equal("Job abc: item 7 (web07) failed after 3 attempt(s): boom", info.Message);
    }

    [Fact]
    public void ProgressView_MapsSnapshotToProgressRecordFields()
    {
        var view = ProgressView.From("job1", "patch", new ProgressSnapshot { Total = 200, Succeeded = 45, Failed = 5, Running = 4, Elapsed = TimeSpan.FromSeconds(10) });

        Assert.Equal("BatchOps: patch (job1)", view.Activity);
        Assert.Equal(25, view.PercentComplete);
        Assert.Equal(30, view.SecondsRemaining);
        Assert.Equal("50/200 done: 45 ok, 5 failed, 4 running, 5.0 items/s", view.StatusDescription);
        Assert.False(view.Completed);
        Assert.Equal(view.ActivityId, ProgressView.From("job1", "other", new ProgressSnapshot()).ActivityId);
        Assert.Equal(-1, ProgressView.From("job1", "x", new ProgressSnapshot { Succeeded = 1 }).PercentComplete);
    }

    [Fact]
    public void ProgressView_ForStoredJob_CountsFromItsItems()
    {
        var start = DateTimeOffset.UnixEpoch;
        var job = new JobRecord
        {
            Id = "j2", Name = "waiting", OperationKind = "x", Operation = "{}", StartedAt = start,
            Counts = new ItemCounts { Succeeded = 30, Failed = 10, Pending = 60 },
        };

        var view = ProgressView.ForJob(job, start.AddSeconds(10));

        Assert.Equal(40, view.PercentComplete);
        Assert.Equal("40/100 done: 30 ok, 10 failed, 0 running, 4.0 items/s", view.StatusDescription);
        Assert.Equal(15, view.SecondsRemaining);
    }

    [Fact]
    public void BoundSettings_OnlyPassedParametersBecomeExplicitSettings()
    {
        var bound = new Dictionary<string, object?> { ["ThrottleLimit"] = 16, ["RetryDelay"] = 1.5, ["StopOnError"] = true, ["Name"] = "x" };

        var settings = BoundSettings.From(bound);

        Assert.Equal(new JobSettings { ThrottleLimit = 16, RetryDelayMs = 1500, StopOnError = true }, settings);
        Assert.Equal(8, settings.Over(new JobSettings { ThrottleLimit = 2, ChunkSize = 8 }).ChunkSize);
        Assert.Equal("TimeoutSeconds", BoundSettings.ParameterFor("Timeout"));
    }

    [Fact]
    public void StreamPreferences_CommonParametersWinOverVariablesAndInquireBecomesContinue()
    {
        var variables = new Dictionary<string, string?> { ["VerbosePreference"] = "Continue", ["DebugPreference"] = "Inquire", ["WarningPreference"] = "Stop" };
        var bound = new Dictionary<string, object?> { ["Verbose"] = false, ["InformationAction"] = "Continue" };

        var preferences = StreamPreferences.Resolve(bound, name => variables.GetValueOrDefault(name));

        Assert.Equal("SilentlyContinue", preferences["VerbosePreference"]);
        Assert.Equal("Continue", preferences["DebugPreference"]);
        Assert.Equal("Continue", preferences["InformationPreference"]);
        Assert.Equal("Stop", preferences["WarningPreference"]);
        Assert.Equal("SilentlyContinue", StreamPreferences.Resolve(new Dictionary<string, object?>(), _ => null)["VerbosePreference"]);
    }

    [Fact]
    public void ScriptOperationSpec_RoundTripsThroughTheStoreJson()
    {
        var spec = new ScriptOperationSpec { Script = "$_ * 2", UsingValues = { ["x"] = "<Objs/>" }, ImportModule = ["Az"], Functions = { ["f"] = "1" } };

        var json = System.Text.Json.JsonSerializer.Serialize(spec, StoreJson.Options);
        var back = System.Text.Json.JsonSerializer.Deserialize<ScriptOperationSpec>(json, StoreJson.Options)!;

        Assert.Equal(spec.Script, back.Script);
        Assert.Equal("<Objs/>", back.UsingValues["x"]);
        Assert.Equal(["Az"], back.ImportModule);
    }

    [Fact]
    public void RetryClassifier_DefaultsAreSensible()
    {
        Assert.True(RetryClassifier.IsRetryable(new IOException()));
        Assert.True(RetryClassifier.IsRetryable(new InvalidOperationException()));
        Assert.False(RetryClassifier.IsRetryable(new ArgumentNullException("x")));
        Assert.False(RetryClassifier.IsRetryable(new BatchOperationException("no", isRetryable: false)));
        Assert.False(RetryClassifier.IsRetryable(new AggregateException(new IOException(), new UnauthorizedAccessException())));
    }
}
