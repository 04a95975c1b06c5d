using System.Text.RegularExpressions;
using BatchOps.PowerShell.HostTests.Support;
using BatchOps.Testing;

namespace BatchOps.PowerShell.HostTests;

/// <summary>-Queue and Start-BatchWorker on a real PostgreSQL store, run the way users run them.</summary>
[Collection(PostgresCollection.Name)]
public sealed class WorkerTests(PostgresServer server) : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("batchops-workers-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>How many times each item ran: each run appends one character to the item's own file.</summary>
    private Dictionary<int, int> RunCounts() =>
        Directory.GetFiles(_folder).ToDictionary(f => int.Parse(Path.GetFileName(f)), f => (int)new FileInfo(f).Length);

    [Fact]
    public async Task QueuedJob_ReturnsAtOnce_AndAWorkerInAnotherRunspaceRunsIt()
    {
        using var submitter = new PsSession(await server.CreateDatabaseAsync());
        using var worker = new PsSession(submitter.Store);
        submitter.Runspace.SessionStateProxy.SetVariable("Ran", _folder);

        var queued = submitter.Run("""
            $job = 1..200 | New-BatchJob -Name fleet -Queue -ChunkSize 20 -ThrottleLimit 4 -ScriptBlock { [IO.File]::AppendAllText([IO.Path]::Combine($using:Ran, "$_"), "x"); $_ * 2 }
            "$($job.Status) $($job.Total)"
            $again = 1..5 | Invoke-BatchJob -Name quick -Queue -ScriptBlock { $_ }
            "$($again.Status) $($again.Total)"
            """).ThrowIfFailed();
        Assert.Equal(["Queued 200", "Queued 5"], queued.Output.Select(o => o.ToString()));
        Assert.Empty(Directory.GetFiles(_folder));

        var ran = worker.Run("Start-BatchWorker -ExitWhenIdle -Verbose", limit: TimeSpan.FromSeconds(120)).ThrowIfFailed();

        Assert.Contains(ran.Verbose, v => v.Contains("claimed", StringComparison.Ordinal));
        Assert.Contains(ran.Verbose, v => v.Contains("'fleet' Completed: 200 succeeded", StringComparison.Ordinal));
        var after = submitter.Run("""
            $job = Get-BatchJob -Name fleet
            "$($job.Status) $($job.Succeeded)"
            (Get-BatchItem -Id fleet -Index 41).Output
            (Get-BatchJob -Name quick).Status.ToString()
            """).ThrowIfFailed();
        Assert.Equal(["Completed 200", "84", "Completed"], after.Output.Select(o => o.ToString()));
        Assert.Equal(Enumerable.Range(1, 200), RunCounts().Keys.Order());
        Assert.All(RunCounts().Values, runs => Assert.Equal(1, runs));
    }

    [Fact]
    public async Task QueuedStagedJob_WorkersRunEachStageAfterTheStagesItDependsOn_WithItsOwnScriptBlock()
    {
        using var submitter = new PsSession(await server.CreateDatabaseAsync());
        using var worker = new PsSession(submitter.Store);
        submitter.Runspace.SessionStateProxy.SetVariable("Ran", _folder);

        // Each run writes the time it ran into a file of its own, named stage-item.
        var queued = submitter.Run("""
            $job = Invoke-BatchJob -Name provision -Queue -ThrottleLimit 2 -Stage @{
                Name = 'users'; DependsOn = 'networks'; InputObject = 1..30; ChunkSize = 10
                ScriptBlock = { [IO.File]::WriteAllText([IO.Path]::Combine($using:Ran, "users-$_"), [DateTime]::UtcNow.Ticks); "user-$_@$($BatchContext.Stage)" }
            }, @{
                Name = 'networks'; InputObject = 1..12; ChunkSize = 5
                ScriptBlock = { [IO.File]::WriteAllText([IO.Path]::Combine($using:Ran, "networks-$_"), [DateTime]::UtcNow.Ticks); "net-$_" }
            }
            "$($job.Status) $($job.Total)"
            """).ThrowIfFailed();
        Assert.Equal("Queued 42", queued.Output.Single().ToString());
        Assert.Empty(Directory.GetFiles(_folder));

        var ran = worker.Run("Start-BatchWorker -Concurrency 2 -ExitWhenIdle -Verbose", limit: TimeSpan.FromSeconds(120)).ThrowIfFailed();

        Assert.Contains(ran.Verbose, v => v.Contains("stage 'users' opened (networks completed): 3 chunk(s)", StringComparison.Ordinal));
        var after = submitter.Run("""
            $job = Get-BatchJob -Name provision
            "$($job.Status) $($job.Succeeded)"
            ((Get-BatchItem -Id provision -Stage users)[0..1] | ForEach-Object { "$($_.Stage):$($_.Output)" }) -join ','
            """).ThrowIfFailed();
        Assert.Equal(["Completed 42", "users:user-1@users,users:user-2@users"], after.Output.Select(o => o.ToString()));
        long Ticks(string prefix, Func<IEnumerable<long>, long> pick) =>
            pick(Directory.GetFiles(_folder, prefix + "-*").Select(f => long.Parse(File.ReadAllText(f), System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal((12, 30), (Directory.GetFiles(_folder, "networks-*").Length, Directory.GetFiles(_folder, "users-*").Length));
        Assert.True(Ticks("users", t => t.Min()) > Ticks("networks", t => t.Max()), "a user ran before every network had");
    }

    [Fact]
    public async Task QueuedJobThatRollsBackOnFailure_TheWorkerCompensatesItsSucceededItems_WithTheUndoScriptBlock()
    {
        using var submitter = new PsSession(await server.CreateDatabaseAsync());
        using var worker = new PsSession(submitter.Store);
        submitter.Runspace.SessionStateProxy.SetVariable("Ran", _folder);

        // Each undo writes a file named after its item holding what the forward run returned.
        var queued = submitter.Run("""
            $job = 1..25 | New-BatchJob -Name vms -Queue -ChunkSize 5 -ThrottleLimit 2 -OnFailure Rollback -ScriptBlock {
                if ($_ -eq 13) { throw "vm $_ failed to boot" }
                "vm-$_"
            } -UndoScriptBlock { [IO.File]::WriteAllText([IO.Path]::Combine($using:Ran, "$_"), $BatchOutput) }
            "$($job.Status) $($job.Total)"
            """).ThrowIfFailed();
        Assert.Equal("Queued 25", queued.Output.Single().ToString());

        worker.Run("Start-BatchWorker -ExitWhenIdle", limit: TimeSpan.FromSeconds(120)).ThrowIfFailed();

        var after = submitter.Run("""
            $job = Get-BatchJob -Name vms
            "$($job.Status) $($job.Compensated) $($job.Failed)"
            $job.Message
            """).ThrowIfFailed();
        Assert.Equal(["RolledBack 24 1", "Rolled back: 24 item(s) compensated."], after.Output.Select(o => o.ToString()));
        Assert.Equal(Enumerable.Range(1, 25).Where(n => n != 13), RunCounts().Keys.Order());
        Assert.All(Directory.GetFiles(_folder), f => Assert.Equal($"vm-{Path.GetFileName(f)}", File.ReadAllText(f)));
    }

    [Fact]
    public async Task CtrlC_StopsTheWorker_WithTheChunksInHandRecorded_AndAnotherWorkerFinishesTheJob()
    {
        using var submitter = new PsSession(await server.CreateDatabaseAsync());
        using var worker = new PsSession(submitter.Store);
        submitter.Runspace.SessionStateProxy.SetVariable("Ran", _folder);
        submitter.Run("""
            1..300 | New-BatchJob -Name slow -Queue -ChunkSize 10 -ThrottleLimit 2 -ScriptBlock { [IO.File]::AppendAllText([IO.Path]::Combine($using:Ran, "$_"), "x"); [Threading.Thread]::Sleep(20) } | Out-Null
            """).ThrowIfFailed();

        using (var running = worker.Start("Start-BatchWorker -Concurrency 2"))
        {
            var probe = new PsSession(submitter.Store);
            running.WaitUntil(_ => long.Parse(probe.Run("(Get-BatchJob -Name slow).Succeeded").Output.Single().ToString()!) >= 40, TimeSpan.FromSeconds(60), "40 items to succeed");
            probe.Dispose();
            Assert.True(running.Stop(TimeSpan.FromSeconds(40)) < TimeSpan.FromSeconds(35));
        }

        var stopped = submitter.Run("$j = Get-BatchJob -Name slow; \"$($j.Status) $($j.Succeeded + $j.Pending)\"").ThrowIfFailed();
        Assert.Equal("Queued 300", stopped.Output.Single().ToString());

        worker.Run("Start-BatchWorker -ExitWhenIdle", limit: TimeSpan.FromSeconds(120)).ThrowIfFailed();

        var ended = submitter.Run("$j = Get-BatchJob -Name slow; \"$($j.Status) $($j.Succeeded)\"").ThrowIfFailed();
        Assert.Equal("Completed 300", ended.Output.Single().ToString());
        Assert.Equal(300, RunCounts().Count);
        Assert.All(RunCounts().Values, runs => Assert.Equal(1, runs));
    }

    [Fact]
    public async Task StopBatchJob_FromTheSubmitter_StopsTheWorkersJob()
    {
        using var submitter = new PsSession(await server.CreateDatabaseAsync());
        using var worker = new PsSession(submitter.Store);
        submitter.Run("1..2000 | New-BatchJob -Name long -Queue -ChunkSize 10 -ThrottleLimit 2 -ScriptBlock { [Threading.Thread]::Sleep(10) } | Out-Null").ThrowIfFailed();

        using var running = worker.Start("Start-BatchWorker -ExitWhenIdle");
        running.WaitUntil(_ => long.Parse(submitter.Run("(Get-BatchJob -Name long).Succeeded").Output.Single().ToString()!) >= 20, TimeSpan.FromSeconds(60), "20 items to succeed");
        submitter.Run("Stop-BatchJob -Id long").ThrowIfFailed();
        running.Wait(TimeSpan.FromSeconds(30)).ThrowIfFailed();

        var ended = submitter.Run("$j = Get-BatchJob -Name long; \"$($j.Status) $($j.Succeeded -lt 2000)\"").ThrowIfFailed();
        Assert.Equal("Cancelled True", ended.Output.Single().ToString());
    }

    [Fact]
    public async Task GetBatchWorker_ShowsTheRunningWorker_BusyWithItsJob_AndNothingOnceItStopped()
    {
        using var submitter = new PsSession(await server.CreateDatabaseAsync());
        using var worker = new PsSession(submitter.Store);
        submitter.Run("1..400 | New-BatchJob -Name slow -Queue -ChunkSize 10 -ThrottleLimit 2 -ScriptBlock { [Threading.Thread]::Sleep(20) } | Out-Null").ThrowIfFailed();

        using (var running = worker.Start("Start-BatchWorker -Name ps-worker -Concurrency 2"))
        {
            // Between two chunks a worker holds none for a moment (Idle): read the listing while it holds one.
            PsRun? listed = null;
            running.WaitUntil(_ => (listed = submitter.Run("""
                if ($w = Get-BatchWorker ps-* -State Busy) {
                    $w.PSObject.TypeNames[0]
                    "$($w.State) $($w.ProcessId) $($w.ComputerName) $($w.Concurrency) $($w.Kinds -join ',') $($w.ChunksHeld)"
                    ($w.Jobs | ForEach-Object { (Get-BatchJob -Id $_).Name }) -join ','
                }
                """).ThrowIfFailed()).Output.Count == 3, TimeSpan.FromSeconds(60), "the worker to be listed Busy");
            // It holds the chunk it runs, and the next one too while the last items of the first run (claimed ahead).
            var output = listed!.Output.Select(o => o.ToString()).ToList();
            Assert.Equal("BatchOps.BatchWorker|slow", $"{output[0]}|{output[2]}");
            Assert.Matches($@"^Busy {Environment.ProcessId} {Regex.Escape(Environment.MachineName)} 2 scriptblock,sql,exec,http [12]$", output[1]);

            // Once the job has ended the worker holds nothing: Idle, and only Idle.
            running.WaitUntil(_ => submitter.Run("(Get-BatchJob -Name slow).Status.ToString()").Output.Single().ToString() == "Completed", TimeSpan.FromSeconds(60), "the job to complete");
            var idle = submitter.Run("""
                (Get-BatchWorker -State Idle).Name
                @(Get-BatchWorker -State Busy, Missing).Count
                """).ThrowIfFailed();
            Assert.Equal(["ps-worker", "0"], idle.Output.Select(o => o?.ToString()));

            // Its table view, as the real formatting engine draws it in a 120-column console.
            var table = string.Concat(submitter.Run("Get-BatchWorker ps-worker | Format-Table | Out-String -Width 120").ThrowIfFailed().Output)
                .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            Assert.Equal(["Name", "ComputerName", "ProcessId", "State", "Held", "Recorded", "LastSeen", "Jobs"], table[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
            Assert.Matches($@"^ps-worker\s+{Regex.Escape(Environment.MachineName)}\s+{Environment.ProcessId}\s+Idle\s+0\s+\d+\s+\S+", table[2]);

            var missing = submitter.Run("Get-BatchWorker -Name nobody");
            Assert.Empty(missing.Output);
            var error = Assert.Single(missing.Errors);
            Assert.Equal("BatchOps.WorkerNotFound,BatchOps.PowerShell.Commands.GetBatchWorkerCommand", error.FullyQualifiedErrorId);
            Assert.Contains("No worker named 'nobody'", error.Exception.Message, StringComparison.Ordinal);
            running.Stop(TimeSpan.FromSeconds(40));
        }

        Assert.Empty(submitter.Run("Get-BatchWorker").ThrowIfFailed().Output);
    }

    [Fact]
    public async Task StopBatchWorker_FromAnotherSession_TheWorkerFinishesItsChunksAndReturns_AndNoItemRunsTwice()
    {
        using var submitter = new PsSession(await server.CreateDatabaseAsync());
        using var worker = new PsSession(submitter.Store);
        submitter.Runspace.SessionStateProxy.SetVariable("Ran", _folder);
        submitter.Run("""
            1..300 | New-BatchJob -Name drained -Queue -ChunkSize 10 -ThrottleLimit 2 -ScriptBlock {
                [IO.File]::AppendAllText([IO.Path]::Combine($using:Ran, "$_"), "x"); [Threading.Thread]::Sleep(50)
            } | Out-Null
            """).ThrowIfFailed();

        PsRun stopped;
        using (var running = worker.Start("Start-BatchWorker -Name ps-drain -Lease 3"))
        {
            running.WaitUntil(_ => submitter.Run("@(Get-BatchWorker ps-drain -State Busy).Count").Output.Single().ToString() == "1", TimeSpan.FromSeconds(60), "the worker to be listed Busy");

            // Tab completion offers the store's workers by name.
            var completed = submitter.Run("""
                (TabExpansion2 -inputScript 'Stop-BatchWorker ps-d' -cursorColumn 21).CompletionMatches.CompletionText
                @((TabExpansion2 -inputScript 'Get-BatchWorker -Name zz' -cursorColumn 24).CompletionMatches).Count
                """).ThrowIfFailed();
            Assert.Equal(["ps-drain", "0"], completed.Output.Select(o => o.ToString()));

            // -WhatIf asks nothing; a name that matches no worker is an error; a pattern that matches none is not.
            var whatIf = submitter.Run("Stop-BatchWorker ps-drain -WhatIf; (Get-BatchWorker ps-drain).State.ToString()").ThrowIfFailed();
            Assert.NotEqual("Stopping", whatIf.Output.Single().ToString());
            var nobody = submitter.Run("Stop-BatchWorker -Name nobody, none-*");
            var error = Assert.Single(nobody.Errors);
            Assert.Equal("BatchOps.WorkerNotFound,BatchOps.PowerShell.Commands.StopBatchWorkerCommand", error.FullyQualifiedErrorId);
            Assert.Contains("No worker named 'nobody'", error.Exception.Message, StringComparison.Ordinal);

            // -PassThru outputs the worker as listed once asked; -Wait then returns once it has left the list.
            var asked = submitter.Run("Get-BatchWorker ps-drain | Stop-BatchWorker -PassThru -Wait -Verbose", limit: TimeSpan.FromSeconds(60)).ThrowIfFailed();
            var listed = Assert.Single(asked.Output);
            Assert.Equal(("BatchOps.BatchWorker", "ps-drain", "Stopping"), (listed.TypeNames[0], listed.Properties["Name"].Value, listed.Properties["State"].Value.ToString()));
            Assert.NotNull(listed.Properties["StopAskedAt"].Value);
            Assert.Contains(asked.Verbose, v => v.StartsWith("Asked worker 'ps-drain'", StringComparison.Ordinal));
            Assert.Contains(asked.Verbose, v => v == "Worker 'ps-drain' has stopped.");
            Assert.Empty(submitter.Run("Get-BatchWorker").ThrowIfFailed().Output);
            stopped = running.Wait(TimeSpan.FromSeconds(30));
        }

        Assert.Null(stopped.Terminating);
        Assert.Empty(stopped.Errors);
        Assert.Contains(stopped.Warnings, w => w.Contains("stopasked: asked to stop through the store", StringComparison.Ordinal));
        Assert.DoesNotContain(stopped.Verbose, v => v.Contains("given back", StringComparison.Ordinal));
        var left = submitter.Run("""$j = Get-BatchJob -Name drained; "$($j.Status) $($j.Succeeded)" """).ThrowIfFailed().Output.Single().ToString()!.Split(' ');
        Assert.Contains(left[0], new[] { "Queued", "Running" });
        var succeeded = int.Parse(left[1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(succeeded is > 0 and < 300 && succeeded % 10 == 0, $"{succeeded} succeeded: the chunks in hand finish whole");

        // Another worker runs the rest; every item ran exactly once.
        worker.Run("Start-BatchWorker -Name ps-rest -ExitWhenIdle", limit: TimeSpan.FromSeconds(120)).ThrowIfFailed();
        Assert.Equal("Completed", submitter.Run("(Get-BatchJob -Name drained).Status.ToString()").Output.Single().ToString());
        Assert.Equal(Enumerable.Range(1, 300), RunCounts().Keys.Order());
        Assert.All(RunCounts().Values, runs => Assert.Equal(1, runs));
    }

    [Fact]
    public void StopBatchWorker_OnASqliteStore_IsRefusedWithTheFix()
    {
        using var session = new PsSession();

        var refused = Assert.Single(session.Run("Stop-BatchWorker -Name any").Errors);

        Assert.Equal("BatchOps.StoreError,BatchOps.PowerShell.Commands.StopBatchWorkerCommand", refused.FullyQualifiedErrorId);
        Assert.Contains("postgresql://", refused.Exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GetBatchWorker_OnASqliteStore_IsRefusedWithTheFix()
    {
        using var session = new PsSession();

        var run = session.Run("Get-BatchWorker");

        var refused = Assert.Single(run.Errors);
        Assert.Equal("BatchOps.StoreError,BatchOps.PowerShell.Commands.GetBatchWorkerCommand", refused.FullyQualifiedErrorId);
        Assert.Contains("has no workers", refused.Exception.Message, StringComparison.Ordinal);
        Assert.Contains("postgresql://", refused.Exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartBatchWorker_UseCallerRunspace_RunsQueuedItemsInTheCallersRunspace_OneAtATime()
    {
        using var session = new PsSession(await server.CreateDatabaseAsync());

        var run = session.Run("""
            $calls = [Collections.Concurrent.ConcurrentQueue[object]]::new()
            function Set-Thing($Name) { $calls.Enqueue("$Name@$([Threading.Thread]::CurrentThread.ManagedThreadId)"); "set $Name" }
            $null = 1..30 | New-BatchJob { Set-Thing $_ } -Name queued-here -Queue -ThrottleLimit 8 -ChunkSize 5
            $PSDefaultParameterValues['*-Batch*:UseCallerRunspace'] = $true
            $said = Start-BatchWorker -ExitWhenIdle -Concurrency 4 -Verbose 4>&1 | Where-Object { "$_" -like '-UseCallerRunspace*' }
            @($said).Count
            @($calls | ForEach-Object { $_.Split('@')[1] } | Sort-Object -Unique).Count
            @($calls | ForEach-Object { [int]$_.Split('@')[0] } | Sort-Object -Unique).Count
            $job = Get-BatchJob -Name queued-here
            "$($job.Status) $($job.Succeeded)"
            (Get-BatchItem -Id queued-here -Index 29).Output
            """, limit: TimeSpan.FromSeconds(90)).ThrowIfFailed();

        Assert.Equal(["1", "1", "30", "Completed 30", "set 30"], run.Output.Select(o => o?.ToString()));
    }

    [Fact]
    public async Task StartBatchWorker_RunsExecAndHttpJobsSubmittedFromSpecs()
    {
        using var session = new PsSession(await server.CreateDatabaseAsync());
        using var api = new LoopbackServer((path, _) => new Reply(path.EndsWith("/3", StringComparison.Ordinal) ? 404 : 200, $"answer {path}"));
        var folder = Directory.CreateTempSubdirectory("batchops-specs-").FullName;
        var exec = Path.Combine(folder, "exec.json");
        var http = Path.Combine(folder, "http.json");
        File.WriteAllText(exec, """
            { "name": "spec-exec", "items": [ { "n": 1 }, { "n": 2 }, { "n": 3 } ],
              "operation": { "kind": "exec", "command": "sh", "args": ["-c", "echo exec $0", "{n}"] } }
            """);
        File.WriteAllText(http, $$"""
            { "name": "spec-http", "items": [ { "n": 1 }, { "n": 2 }, { "n": 3 } ],
              "operation": { "kind": "http", "method": "POST", "url": "{{api.Url}}/items/{n}" },
              "settings": { "retryCount": 2, "retryDelayMs": 10 } }
            """);
        Assert.Contains("Queued", session.Batchops("submit", exec), StringComparison.Ordinal);
        Assert.Contains("Queued", session.Batchops("submit", http), StringComparison.Ordinal);

        var run = session.Run("""
            Start-BatchWorker -ExitWhenIdle
            foreach ($name in 'spec-exec', 'spec-http') {
                $job = Get-BatchJob -Name $name
                "$($job.Status) $($job.Succeeded) $($job.Failed)"
                (Get-BatchItem -Id $job.Id | Sort-Object Index | ForEach-Object { if ($_.Error) { $_.Error.Type } else { "$($_.Output)".Trim() } }) -join ','
            }
            """, limit: TimeSpan.FromSeconds(90)).ThrowIfFailed();

        Assert.Equal(
            ["Completed 3 0", "exec 1,exec 2,exec 3", "CompletedWithErrors 2 1", "answer /items/1,answer /items/2,HttpStatus"],
            run.Output.Select(o => o.ToString()));
        Assert.Single(api.Hits("/items/3"));
    }

    [Fact]
    public async Task MixedFleet_ABatchopsWorkerAndAPowerShellWorker_FinishAStagedJobOfExecAndScriptBlockStages_EveryItemOnce()
    {
        using var session = new PsSession(await server.CreateDatabaseAsync());
        var spec = Path.Combine(_folder, "..", $"mixed-{Guid.NewGuid():N}.json");
        File.WriteAllText(spec, SpecTests.MixedSpec("mixed-fleet", _folder, 40));
        try
        {
            Assert.Contains("Queued", session.Batchops("submit", spec), StringComparison.Ordinal);
            using var cli = session.StartBatchops("worker", "--kinds", "exec", "--name", "cli-worker");
            try
            {
                // Until a PowerShell worker runs, the script-block stage waits, and Get-BatchWorker warns of it.
                var said = session.Run("""
                    $deadline = [DateTime]::UtcNow.AddSeconds(60)
                    do {
                        $workers = Get-BatchWorker -WarningVariable said -WarningAction SilentlyContinue
                        Start-Sleep -Milliseconds 100
                    } until (($said | Where-Object Message -Match 'kind scriptblock') -or [DateTime]::UtcNow -gt $deadline)
                    "$($workers.Name) $(@($said).Count)"
                    @($said)[0].Message
                    """, limit: TimeSpan.FromSeconds(90)).ThrowIfFailed();
                Assert.Equal("cli-worker 1", said.Output[0].ToString());
                Assert.Matches(@"^Job 'mixed-fleet' \(\w+\): \d+ chunk\(s\) of kind scriptblock wait for a worker that runs scriptblock; none running does\. Start-BatchWorker in PowerShell runs every kind\.$", said.Output[1].ToString());

                // The PowerShell worker takes only script blocks: it finds nothing until the exec stage (the batchops
                // worker's) has completed and opened the next one, so it is started again until the job is done.
                var run = session.Run("""
                    $deadline = [DateTime]::UtcNow.AddSeconds(100)
                    while ((Get-BatchJob -Name mixed-fleet).Status -notin 'Completed', 'CompletedWithErrors', 'Failed' -and [DateTime]::UtcNow -lt $deadline) {
                        Start-BatchWorker -Kind scriptblock -ExitWhenIdle -Name ps-worker
                        Start-Sleep -Milliseconds 200
                    }
                    $job = Get-BatchJob -Name mixed-fleet
                    "$($job.Status) $($job.Succeeded) $($job.Failed)"
                    Get-BatchItem -Id mixed-fleet -Stage verify -Index 45 | ForEach-Object { "$($_.Output)".Trim() }
                    Get-BatchItem -Id mixed-fleet -Stage create -Index 4 | ForEach-Object { "$($_.Output)".Trim() }
                    """, limit: TimeSpan.FromSeconds(150)).ThrowIfFailed();

                Assert.Equal(["Completed 80 0", "checked PSCustomObject 6 a+b verify", "made 5"], run.Output.Select(o => o.ToString()));
            }
            finally
            {
                cli.Kill(entireProcessTree: true);
                await cli.WaitForExitAsync();
            }

            var files = Directory.GetFiles(_folder).Select(Path.GetFileName).Order().ToList();
            Assert.Equal(Enumerable.Range(1, 40).SelectMany(n => new[] { $"create-{n}", $"verify-{n}" }).Order(), files);
            Assert.All(Directory.GetFiles(_folder), f => Assert.Equal(1, new FileInfo(f).Length));
        }
        finally
        {
            File.Delete(spec);
        }
    }

    [Fact]
    public void Queue_OnASqliteStore_IsRefusedWithTheFix_AndNothingIsCreated()
    {
        using var session = new PsSession();

        var run = session.Run("1..3 | New-BatchJob -Name local -Queue -ScriptBlock { $_ }");
        var worker = session.Run("Start-BatchWorker -ExitWhenIdle");

        var refused = Assert.Single(run.Errors);
        Assert.Equal("BatchOps.InvalidSetting,BatchOps.PowerShell.Commands.NewBatchJobCommand", refused.FullyQualifiedErrorId);
        Assert.Contains("postgresql://", refused.Exception.Message, StringComparison.Ordinal);
        Assert.Empty(session.Run("Get-BatchJob").Output);
        Assert.Contains("PostgreSQL store", Assert.Single(worker.Errors).Exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartBatchWorker_AppliesTheSettingsFilesRetention_AtStart_AndSaysWhatWent()
    {
        var database = await server.CreateDatabaseAsync();
        using var session = new PsSession(database);
        session.Run("""
            1..30 | Invoke-BatchJob -Name old-run -ScriptBlock { $_ } | Out-Null
            1..5 | Invoke-BatchJob -Name new-run -ScriptBlock { $_ } | Out-Null
            """).ThrowIfFailed();
        await using (var connection = new Npgsql.NpgsqlConnection(database))
        {
            await connection.OpenAsync();
            await using var age = new Npgsql.NpgsqlCommand("UPDATE batchops.jobs SET ended_at = ended_at - interval '40 days' WHERE name = 'old-run'", connection);
            Assert.Equal(1, await age.ExecuteNonQueryAsync());
        }

        // The settings file of a PostgreSQL store's sessions is named by BATCHOPS_CONFIG here (its folder is the
        // user's); a retention section changes no job's settings, so tests running beside this one are unaffected.
        var settings = Path.Combine(_folder, "settings.json");
        File.WriteAllText(settings, """{ "retention": { "Completed": "30d" } }""");
        Environment.SetEnvironmentVariable("BATCHOPS_CONFIG", settings);
        PsRun worker;
        try
        {
            worker = session.Run("Start-BatchWorker -ExitWhenIdle -Verbose", limit: TimeSpan.FromSeconds(120)).ThrowIfFailed();
        }
        finally
        {
            Environment.SetEnvironmentVariable("BATCHOPS_CONFIG", null);
        }

        Assert.Contains(worker.Verbose, v => v.StartsWith("retention: removed 1 job(s) ('old-run' Completed), 30 item(s)", StringComparison.Ordinal));
        Assert.Equal("new-run", session.Run("(Get-BatchJob).Name").ThrowIfFailed().Output.Single().ToString());
    }
}
