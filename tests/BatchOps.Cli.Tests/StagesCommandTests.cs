using System.Text.Json;
using BatchOps.Cli.Tests.Support;
using BatchOps.Engine.Tests.Support;

namespace BatchOps.Cli.Tests;

/// <summary>Staged specs, rollback and undo through the batchops command, with real child processes as operations.</summary>
public class StagesCommandTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string Store => Path.Combine(_folder.Path, "store");

    private string Log => Path.Combine(_folder.Path, "calls.log");

    private string Fixed => Path.Combine(_folder.Path, "fixed");

    /// <summary>
    /// An exec operation that appends "WHAT {name} {stage}" to the calls log and prints "id-{name}"; items named
    /// "bad…" fail until the file <see cref="Fixed"/> exists.
    /// </summary>
    private object Append(string what, string field = "name") => new
    {
        kind = "exec",
        command = "sh",
        args = new[] { "-c", $"case {{{field}}} in bad*) [ -e \"$FIXED\" ] || exit 3;; esac; echo \"{what} {{{field}}} {{stage}}\" >> \"$CALLS\"; echo id-{{{field}}}" },
        env = new Dictionary<string, string> { ["CALLS"] = Log, ["FIXED"] = Fixed },
    };

    /// <summary>An undo that appends "undo {output}" (the forward output) to the calls log.</summary>
    private object Undo() => new
    {
        kind = "exec",
        command = "sh",
        args = new[] { "-c", "echo \"undo {output} $BATCHOPS_IDEMPOTENCY_KEY\" >> \"$CALLS\"" },
        env = new Dictionary<string, string> { ["CALLS"] = Log },
    };

    private static object[] Named(params string[] names) => names.Select(n => (object)new { name = n }).ToArray();

    private string[] Calls() => File.Exists(Log) ? File.ReadAllLines(Log) : [];

    private object TwoStages(string[] networks, string[] users, string onFailure = "continue", object? usersUndo = null) => new
    {
        name = "provision",
        onFailure,
        settings = new { throttleLimit = 1 },
        stages = new object[]
        {
            new { name = "users", dependsOn = new[] { "networks" }, key = "{name}", items = Named(users), operation = Append("create"), undo = usersUndo ?? Undo() },
            new { name = "networks", key = "{name}", items = Named(networks), operation = Append("create"), undo = Undo() },
        },
    };

    private async Task<JsonElement> ShowAsync(string job)
    {
        var show = await CliHarness.RunAsync(Store, "show", job, "--items", "--json");
        Assert.True(show.ExitCode == 0, show.ToString());
        using var document = JsonDocument.Parse(show.Out);
        return document.RootElement.Clone();
    }

    [Fact]
    public async Task Run_Stages_RunInDependencyOrderWithTheirStageNames()
    {
        var spec = SpecFiles.Write(_folder.Path, TwoStages(["net1", "net2"], ["ann", "bob"]));

        var run = await CliHarness.RunAsync(Store, "run", spec);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(["create net1 networks", "create net2 networks", "create ann users", "create bob users"], Calls());
        var shown = await ShowAsync("provision");
        Assert.Equal("Completed", shown.GetProperty("job").GetProperty("status").GetString());
        var stages = shown.GetProperty("stages").EnumerateArray().Select(s => (s.GetProperty("name").GetString(), s.GetProperty("status").GetString())).ToList();
        Assert.Equal([("networks", "Completed"), ("users", "Completed")], stages);
    }

    [Fact]
    public async Task Run_DependencyFails_DependentStageIsSkippedWithTheReason_AndRetryOfTheStageRunsIt()
    {
        var spec = SpecFiles.Write(_folder.Path, TwoStages(["net1", "bad-net"], ["ann"]));

        var run = await CliHarness.RunAsync(Store, "run", spec);

        Assert.Equal(1, run.ExitCode);
        Assert.DoesNotContain(Calls(), c => c.EndsWith("users", StringComparison.Ordinal));
        var items = (await ShowAsync("provision")).GetProperty("items").EnumerateArray().ToList();
        var ann = items.Single(i => i.GetProperty("key").GetString() == "ann");
        Assert.Equal("Skipped", ann.GetProperty("status").GetString());
        Assert.Contains("its dependency 'networks' did not complete", ann.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);

        // Fix the network, then retry only that stage: its failed item runs, and users then runs too.
        await File.WriteAllTextAsync(Fixed, "yes");
        var retried = await CliHarness.RunAsync(Store, "retry", "provision", "--stage", "networks");
        Assert.True(retried.ExitCode == 0, retried.ToString());
        Assert.Equal(["create net1 networks", "create bad-net networks", "create ann users"], Calls());
        var unknown = await CliHarness.RunAsync(Store, "retry", "provision", "--stage", "netwroks");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("has no stage 'netwroks'", unknown.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stats_Job_PrintsEachStagesCountsAndRate_AndFollowsARetry()
    {
        var spec = SpecFiles.Write(_folder.Path, TwoStages(["net1", "bad-net", "net3"], ["ann", "bob"]));
        Assert.Equal(1, (await CliHarness.RunAsync(Store, "run", spec)).ExitCode);

        var table = await CliHarness.RunAsync(Store, "stats", "--job", "provision");
        var json = await CliHarness.RunAsync(Store, "stats", "--job", "provision", "--stage", "users", "--json");
        await File.WriteAllTextAsync(Fixed, "yes");
        Assert.Equal(0, (await CliHarness.RunAsync(Store, "retry", "provision")).ExitCode);
        var after = await CliHarness.RunAsync(Store, "stats", "--job", "provision", "--json");
        var unknown = await CliHarness.RunAsync(Store, "stats", "--job", "provision", "--stage", "netwroks");
        var stageWithoutJob = await CliHarness.RunAsync(Store, "stats", "--stage", "users");

        Assert.True(table.ExitCode == 0, table.ToString());
        var rows = table.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^STAGE\s+AFTER\s+STATUS\s+ITEMS\s+SUCCEEDED\s+FAILED\s+SKIPPED\s+PENDING\s+UNDONE\s+STARTED\s+DURATION\s+ITEMS/S", rows[0]);
        Assert.Matches(@"^networks\s+CompletedWithErrors\s+3\s+2\s+1\s+0\s+0\s+0\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+\d\d:\d\d:\d\d\.\d\s+[\d.]+$", rows[1].TrimEnd());
        Assert.Matches(@"^users\s+networks\s+Skipped\s+2\s+0\s+0\s+2\s+0\s+0\s+-\s+-\s+-$", rows[2].TrimEnd());
        using (var users = JsonDocument.Parse(json.Out))
        {
            var only = Assert.Single(users.RootElement.EnumerateArray().ToList());
            Assert.Equal(("users", 2L), (only.GetProperty("stage").GetString(), only.GetProperty("counts").GetProperty("skipped").GetInt64()));
        }

        using (var retried = JsonDocument.Parse(after.Out))
        {
            var stages = retried.RootElement.EnumerateArray().Select(s => (s.GetProperty("stage").GetString(), s.GetProperty("status").GetString(), s.GetProperty("counts").GetProperty("succeeded").GetInt64())).ToList();
            Assert.Equal([("networks", "Completed", 3L), ("users", "Completed", 2L)], stages);
            Assert.All(retried.RootElement.EnumerateArray(), s => Assert.True(s.GetProperty("itemsPerSecond").GetDouble() > 0));
        }

        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("has no stage 'netwroks'. Its stages: users, networks.", unknown.Error, StringComparison.Ordinal);
        Assert.Equal(2, stageWithoutJob.ExitCode);
        Assert.Contains("--stage needs --job", stageWithoutJob.Error, StringComparison.Ordinal);
    }

    private object Mixed() => new
    {
        name = "mixed",
        stages = new object[]
        {
            new { name = "create", items = Named("a", "b"), operation = Append("create") },
            new { name = "verify", dependsOn = new[] { "create" }, items = Named("a", "b"), operation = new { kind = "scriptblock", script = "Test-Connection $_.name\n'done'" } },
        },
    };

    [Fact]
    public async Task Run_StageThatIsAPowerShellScriptBlock_IsRefusedSayingWhereItRuns_AndCreatesNothing_ButDryRunShowsIt()
    {
        var spec = SpecFiles.Write(_folder.Path, Mixed());

        var run = await CliHarness.RunAsync(Store, "run", spec);
        var dry = await CliHarness.RunAsync(Store, "run", spec, "--dry-run");
        var list = await CliHarness.RunAsync(Store, "list", "--json");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("Stage 'verify' is a PowerShell script block, which batchops does not run; nothing was created.", run.Error, StringComparison.Ordinal);
        Assert.Contains("batchops submit", run.Error, StringComparison.Ordinal);
        Assert.Empty(Calls());
        Assert.Equal("[]", list.Out.Trim());
        Assert.True(dry.ExitCode == 0, dry.ToString());
        Assert.Contains("scriptblock (PowerShell): Test-Connection $_.name … (2 lines)", dry.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "name": "x", "items": [1], "operation": { "kind": "scriptblock", "script": "$_" } }""", "kind \"scriptblock\" belongs in a stage")]
    [InlineData("""{ "name": "x", "stages": [ { "name": "s", "items": [1], "operation": { "kind": "scriptblock" } } ] }""", "stage 's': operation: \"script\" is required for kind \"scriptblock\"")]
    [InlineData("""{ "name": "x", "stages": [ { "name": "s", "items": [1], "operation": { "kind": "scriptblock", "script": "$_", "url": "http://127.0.0.1/" } } ] }""", "\"url\" does not belong to kind \"scriptblock\"")]
    public async Task Run_ScriptBlockOperationMisused_IsRejectedNamingTheFix(string json, string message)
    {
        var spec = Path.Combine(_folder.Path, "bad.json");
        await File.WriteAllTextAsync(spec, json);

        var run = await CliHarness.RunAsync(Store, "run", spec);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(message, run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_Cycle_IsRejectedNamingTheCycle_AndCreatesNothing()
    {
        var spec = SpecFiles.Write(_folder.Path, new
        {
            name = "cyclic",
            stages = new object[]
            {
                new { name = "networks", dependsOn = new[] { "users" }, items = Named("n"), operation = Append("create") },
                new { name = "users", dependsOn = new[] { "networks" }, items = Named("u"), operation = Append("create") },
            },
        });

        var run = await CliHarness.RunAsync(Store, "run", spec);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("Dependency cycle: networks -> users -> networks", run.Error, StringComparison.Ordinal);
        var list = await CliHarness.RunAsync(Store, "list", "--json");
        Assert.Equal("[]", list.Out.Trim());
        Assert.Empty(Calls());
    }

    [Fact]
    public async Task Run_OnFailureRollback_UndoesEverySucceededItemInReverseOrder()
    {
        var spec = SpecFiles.Write(_folder.Path, TwoStages(["net1", "net2"], ["ann", "bob", "bad-carl", "dave"], onFailure: "rollback"));

        var run = await CliHarness.RunAsync(Store, "run", spec);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("RolledBack", run.Out, StringComparison.Ordinal);
        var job = (await ShowAsync("provision")).GetProperty("job").GetProperty("id").GetString();
        var undos = Calls().Where(c => c.StartsWith("undo", StringComparison.Ordinal)).ToList();
        Assert.Equal(
            [$"undo id-dave {job}:users:key:dave:undo", $"undo id-bob {job}:users:key:bob:undo", $"undo id-ann {job}:users:key:ann:undo",
             $"undo id-net2 {job}:networks:key:net2:undo", $"undo id-net1 {job}:networks:key:net1:undo"],
            undos);
        var shown = await ShowAsync("provision");
        Assert.Equal("RolledBack", shown.GetProperty("job").GetProperty("status").GetString());
        Assert.Equal(5, shown.GetProperty("items").EnumerateArray().Count(i => i.GetProperty("status").GetString() == "Compensated"));
        var log = File.ReadAllText(Directory.GetFiles(Path.Combine(Store, "logs"), "*.log").Single());
        Assert.Contains("[ROLLBACK] RolledBack: 5 compensated, 0 compensation(s) failed", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Undo_WhatIfListsTheOrderAndChangesNothing_ThenUndoCompensates_AndFailedCompensationsAreRecorded()
    {
        var failingUndo = new
        {
            kind = "exec",
            command = "sh",
            args = new[] { "-c", "if [ {name} = bob ]; then echo locked >&2; exit 4; fi; echo \"undo {output}\" >> \"$CALLS\"" },
            env = new Dictionary<string, string> { ["CALLS"] = Log },
        };
        var spec = SpecFiles.Write(_folder.Path, TwoStages(["net1"], ["ann", "bob"], usersUndo: failingUndo));
        Assert.Equal(0, (await CliHarness.RunAsync(Store, "run", spec)).ExitCode);
        var database = Path.Combine(Store, "batchops.db");
        var before = await File.ReadAllBytesAsync(database);

        var whatIf = await CliHarness.RunAsync(Store, "undo", "provision", "--what-if");

        Assert.True(whatIf.ExitCode == 0, whatIf.ToString());
        Assert.Contains("would compensate 3 item(s)", whatIf.Out, StringComparison.Ordinal);
        Assert.Contains("stage users: 2 item(s), newest first: 1, 0", whatIf.Out, StringComparison.Ordinal);
        Assert.Contains("stage networks: 1 item(s), newest first: 2", whatIf.Out, StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllBytesAsync(database));

        var undo = await CliHarness.RunAsync(Store, "undo", "provision");

        Assert.Equal(1, undo.ExitCode);
        Assert.Contains("RollbackFailed", undo.Out, StringComparison.Ordinal);
        Assert.Contains("UNDO FAILED item 1 (bob) of stage users", undo.Error, StringComparison.Ordinal);
        var bob = (await ShowAsync("provision")).GetProperty("items").EnumerateArray().Single(i => i.GetProperty("key").GetString() == "bob");
        Assert.Equal("CompensationFailed", bob.GetProperty("status").GetString());
        Assert.Equal("id-bob", bob.GetProperty("output").GetString()!.Trim());
        var log = File.ReadAllText(Directory.GetFiles(Path.Combine(Store, "logs"), "*.log").Single());
        Assert.Contains("[UNDO-FAIL] undo of item 1 (bob)", log, StringComparison.Ordinal);
        Assert.Equal(["undo id-ann", "undo id-net1"], Calls().Where(c => c.StartsWith("undo", StringComparison.Ordinal)).Select(c => string.Join(' ', c.Split(' ').Take(2))));
    }

    [Fact]
    public async Task Rollback_SigkilledMidway_ResumeCompensatesEverySucceededItemExactlyOnce()
    {
        // Item 3's first undo holds (it has not undone anything yet) until the test kills batchops.
        var holdingUndo = new
        {
            kind = "exec",
            command = "sh",
            args = new[]
            {
                "-c",
                "if [ {index} = 3 ] && [ ! -e \"$DIR/held\" ]; then touch \"$DIR/held\"; exec sleep 30; fi; echo \"undo {index}\" >> \"$CALLS\"",
            },
            env = new Dictionary<string, string> { ["CALLS"] = Log, ["DIR"] = _folder.Path },
        };
        var spec = SpecFiles.Write(_folder.Path, new
        {
            name = "killed",
            onFailure = "rollback",
            settings = new { throttleLimit = 1 },
            items = Named("a", "b", "c", "d", "e", "f", "bad-g"),
            operation = Append("create"),
            undo = holdingUndo,
        });

        using (var run = CliHarness.Start(Store, "run", spec))
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (!File.Exists(Path.Combine(_folder.Path, "held")))
            {
                Assert.True(DateTime.UtcNow < deadline, "the rollback never reached item 3");
                Assert.False(run.HasExited, "batchops ended before the rollback reached item 3");
                await Task.Delay(50);
            }

            run.Kill();
            await run.WaitForExitAsync();
        }

        var shown = await ShowAsync("killed");
        Assert.Equal("Interrupted", shown.GetProperty("job").GetProperty("status").GetString());
        var resumed = await CliHarness.RunAsync(Store, "resume", "killed");

        Assert.True(resumed.ExitCode == 1 && resumed.Out.Contains("RolledBack", StringComparison.Ordinal), resumed.ToString());
        var undone = Calls().Where(c => c.StartsWith("undo", StringComparison.Ordinal)).ToList();
        Assert.Equal(["undo 5", "undo 4", "undo 3", "undo 2", "undo 1", "undo 0"], undone);
        Assert.Equal(6, (await ShowAsync("killed")).GetProperty("items").EnumerateArray().Count(i => i.GetProperty("status").GetString() == "Compensated"));
        Assert.Single(Calls(), c => c.StartsWith("create", StringComparison.Ordinal) && c.Contains(" f ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DryRun_Stages_PrintsThePlanAndRenderedOperations_AndLeavesTheStoreAsItWas()
    {
        Assert.Equal(0, (await CliHarness.RunAsync(Store, "run", SpecFiles.Write(_folder.Path, TwoStages(["x"], ["y"]), "first.json"))).ExitCode);
        var database = Path.Combine(Store, "batchops.db");
        var before = await File.ReadAllBytesAsync(database);
        var spec = SpecFiles.Write(_folder.Path, TwoStages(["net1", "net2"], ["ann", "bob", "carl", "dave"]));

        var dry = await CliHarness.RunAsync(Store, "run", spec, "--dry-run");

        Assert.True(dry.ExitCode == 0, dry.ToString());
        Assert.Contains("2 stage(s), 6 item(s)", dry.Out, StringComparison.Ordinal);
        Assert.Contains("1. stage networks (exec, no dependencies): 2 item(s)", dry.Out, StringComparison.Ordinal);
        Assert.Contains("2. stage users (exec, after networks): 4 item(s)", dry.Out, StringComparison.Ordinal);
        Assert.Contains("echo \"create ann users\"", dry.Out, StringComparison.Ordinal);
        Assert.Contains("… and 1 more item(s).", dry.Out, StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllBytesAsync(database));
    }

    [Fact]
    public async Task Spec_StagesWithTopLevelItemsOrRollbackWithoutUndo_AreRejected()
    {
        var mixed = SpecFiles.Write(_folder.Path, new { name = "mixed", items = Named("a"), stages = new object[] { new { name = "s", items = Named("a"), operation = Append("x") } } }, "mixed.json");
        var noUndo = SpecFiles.Write(_folder.Path, new { name = "no-undo", onFailure = "rollback", items = Named("a"), operation = Append("x") }, "no-undo.json");
        var unknown = SpecFiles.Write(_folder.Path, new { name = "unknown", stages = new object[] { new { name = "s", dependsOn = new[] { "nope" }, items = Named("a"), operation = Append("x") } } }, "unknown.json");

        var results = new[] { await CliHarness.RunAsync(Store, "run", mixed), await CliHarness.RunAsync(Store, "run", noUndo), await CliHarness.RunAsync(Store, "run", unknown) };

        Assert.All(results, r => Assert.Equal(2, r.ExitCode));
        Assert.Contains("\"items\" belongs inside each stage", results[0].Error, StringComparison.Ordinal);
        Assert.Contains("\"onFailure\": \"rollback\" needs an \"undo\" operation", results[1].Error, StringComparison.Ordinal);
        Assert.Contains("Stage 's' depends on 'nope', which is not a stage of the job", results[2].Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidItemsFail_RecordsThemFailedAsValidationError_RunsTheRest_AndRetryLeavesThemAlone()
    {
        var spec = SpecFiles.Write(_folder.Path, new
        {
            name = "checked",
            key = "{name}",
            items = new object[] { new { name = "a", size = 1 }, new { name = "b", size = -5 }, new { name = "c", size = 3 } },
            itemSchema = new { type = "object", properties = new { size = new { type = "integer", minimum = 0 } } },
            invalidItems = "fail",
            operation = Append("create"),
            settings = new { throttleLimit = 1 },
        });

        var dry = await CliHarness.RunAsync(Store, "run", spec, "--dry-run");
        var run = await CliHarness.RunAsync(Store, "run", spec);

        Assert.Contains("1 item(s) do not match \"itemSchema\" and would be recorded Failed", dry.Out, StringComparison.Ordinal);
        Assert.Equal(1, run.ExitCode);
        Assert.Equal(["create a ", "create c "], Calls());
        var b = (await ShowAsync("checked")).GetProperty("items").EnumerateArray().Single(i => i.GetProperty("key").GetString() == "b");
        Assert.Equal(("Failed", "ValidationError"), (b.GetProperty("status").GetString(), b.GetProperty("error").GetProperty("type").GetString()));
        Assert.Contains("/size", b.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);

        var retry = await CliHarness.RunAsync(Store, "retry", "checked");
        Assert.Equal(["create a ", "create c "], Calls());
        Assert.Contains("this run: 0 succeeded, 0 failed", retry.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DedupeFirst_KeepsTheFirstItemOfEachKey()
    {
        var spec = SpecFiles.Write(_folder.Path, new { name = "dedupe", key = "{name}", dedupe = "first", items = Named("a", "b", "a", "c", "b"), operation = Append("create"), settings = new { throttleLimit = 1 } });
        var noKey = SpecFiles.Write(_folder.Path, new { name = "nokey", dedupe = "first", items = Named("a"), operation = Append("create") }, "nokey.json");

        var run = await CliHarness.RunAsync(Store, "run", spec);
        var rejected = await CliHarness.RunAsync(Store, "run", noKey);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("2 item(s) were dropped", run.Error, StringComparison.Ordinal);
        Assert.Equal(["create a ", "create b ", "create c "], Calls());
        Assert.Equal(2, rejected.ExitCode);
        Assert.Contains("\"dedupe\": \"first\" needs a \"key\"", rejected.Error, StringComparison.Ordinal);
    }
}
