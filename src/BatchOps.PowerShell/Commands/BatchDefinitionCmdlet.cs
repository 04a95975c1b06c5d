using System.Management.Automation;
using System.Text.Json;
using BatchOps.Engine.Config;
using BatchOps.Engine.Hosting;
using BatchOps.Engine.Jobs;
using JobDefinition = BatchOps.Engine.Jobs.JobDefinition;
using BatchOps.Engine.Store;
using BatchOps.PowerShell.Scripting;

namespace BatchOps.PowerShell.Commands;

/// <summary>The parameters that define a script-block job, shared by New-BatchJob and Invoke-BatchJob.</summary>
public abstract class BatchDefinitionCmdlet : BatchSettingsCmdlet
{
    internal const string ScriptSet = "ScriptBlock";
    internal const string ChunkSet = "ChunkScriptBlock";
    internal const string StageSet = "Stage";
    internal const string SpecPathSet = "SpecPath";
    internal const string SpecSet = "Spec";

    /// <summary>
    /// <para type="description">A JSON spec file, as batchops run takes it (examples/provision.json): items, operation (exec, http or sql),
    /// stages, undo, itemSchema, settings. The job is created with every check of the spec and run here with the same results,
    /// progress and error records as a script-block job.</para>
    /// </summary>
    [Parameter(ParameterSetName = SpecPathSet, Mandatory = true, HelpMessage = "The path of a JSON spec file.")]
    [ValidateNotNullOrEmpty]
    public string? SpecPath { get; set; }

    /// <summary>
    /// <para type="description">A spec given as a hashtable or an object (ConvertFrom-Json's), in the shape of a spec file; paths in it are
    /// relative to the current folder.</para>
    /// </summary>
    [Parameter(ParameterSetName = SpecSet, Mandatory = true, HelpMessage = "A spec: a hashtable or an object in the shape of a spec file.")]
    [ValidateNotNull]
    public object? Spec { get; set; }

    /// <summary>-SpecPath or -Spec, loaded and checked (the spec's own errors end the command, naming the field and the fix).</summary>
    internal Operations.Spec.LoadedJob LoadSpec()
    {
        var settings = Engine.Config.SettingsFile.Load(Engine.Config.SettingsFile.DefaultPath(StoreFolder));
        try
        {
            if (SpecPath is not null)
            {
                var path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(SpecPath);
                if (!File.Exists(path))
                {
                    throw new Operations.Spec.JobSpecException($"The spec file '{path}' does not exist.");
                }

                return Operations.Spec.JobSpecLoader.Load(path, settings);
            }

            var json = PSJson.ToElement(Spec).GetRawText();
            return Operations.Spec.JobSpecLoader.Load(json, "-Spec", SessionState.Path.CurrentFileSystemLocation.ProviderPath, settings);
        }
        catch (Operations.Spec.JobSpecException error)
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentException(error.Message, error), "BatchOps.InvalidSpec", ErrorCategory.InvalidData, (object?)SpecPath ?? Spec));
            throw;
        }
    }

    /// <summary>
    /// Creates the job of a loaded spec (its warnings as warnings, the items that missed its itemSchema as
    /// errors), or under -WhatIf says what it would do: the plan and the first items' rendered commands or
    /// requests, secrets masked, as the spec's dry run shows them. Null when nothing was created.
    /// </summary>
    internal JobRecord? CreateFromSpec(Operations.Spec.LoadedJob loaded, string action)
    {
        foreach (var warning in loaded.Warnings)
        {
            WriteWarning(warning);
        }

        if (Queue)
        {
            CheckQueueable(loaded.Definition);
        }

        if (MyInvocation.BoundParameters.TryGetValue("WhatIf", out var whatIf) && whatIf is SwitchParameter { IsPresent: true })
        {
            // The spec's dry run, line by line ("What if: …"), as batchops run --dry-run prints it: a sql job's
            // chunks run against the database in transactions that are rolled back (lines gathered off this thread).
            var lines = new List<string>();
            if (Operations.Spec.SqlDryRun.Applies(loaded))
            {
                try
                {
                    Operations.Spec.SqlDryRun.RunAsync(loaded, lines.Add, StopToken).GetAwaiter().GetResult();
                }
                catch (Sql.SqlSpecException error)
                {
                    // The table or its columns do not fit the spec: what batchops run --dry-run says too.
                    ThrowTerminatingError(new ErrorRecord(new ArgumentException(error.Message, error), "BatchOps.InvalidSpec", ErrorCategory.InvalidData, (object?)SpecPath ?? Spec));
                }
            }
            else
            {
                lines.AddRange(Operations.Spec.DryRunPlan.Lines(loaded));
            }

            foreach (var line in lines)
            {
                ShouldProcess(line, null, null);
            }

            return null;
        }

        var count = loaded.Stages?.Sum(s => s.Items.Count) ?? loaded.Items.Count;
        if (!ShouldProcess($"new job '{loaded.Definition.Name}' from a spec: {loaded.Operation.Kind}, {(loaded.Stages is { } stages ? $"{stages.Count} stage(s), " : string.Empty)}{count} item(s)", action))
        {
            return null;
        }

        var job = OrStoreError(() => Operations.Spec.LoadedJobs.CreateAsync(new JobRunner(JobStore, StoreLocation.LogFolder(StoreFolder)), loaded, CancellationToken.None).GetAwaiter().GetResult());
        foreach (var invalid in loaded.Invalid)
        {
            WriteError(new ErrorRecord(new ArgumentException($"item {invalid.Index}: {invalid.Message}"), "BatchOps.InvalidItem", ErrorCategory.InvalidData, invalid.Index));
        }

        return job;
    }

    /// <summary>The items: pipe them in.</summary>
    [Parameter(ParameterSetName = ScriptSet, ValueFromPipeline = true)]
    [Parameter(ParameterSetName = ChunkSet, ValueFromPipeline = true)]
    [AllowNull]
    public PSObject? InputObject { get; set; }

    /// <summary>Runs once per item; the item is $_ / $PSItem and the first argument.</summary>
    [Parameter(ParameterSetName = ScriptSet, Mandatory = true, Position = 0, HelpMessage = "The script block to run for each item. The item is $_ and the first argument.")]
    public ScriptBlock? ScriptBlock { get; set; }

    /// <summary>Runs once per chunk with the chunk's items as an array; a failed chunk is split until the bad items are found.</summary>
    [Parameter(ParameterSetName = ChunkSet, Mandatory = true, HelpMessage = "The script block to run for each chunk; $_ is the array of the chunk's items.")]
    public ScriptBlock? ChunkScriptBlock { get; set; }

    /// <summary>Name of the job; the default is batch-yyyyMMdd-HHmmss.</summary>
    [Parameter(ParameterSetName = ScriptSet)]
    [Parameter(ParameterSetName = StageSet)]
    [Parameter(ParameterSetName = ChunkSet)]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    [Parameter(ParameterSetName = ScriptSet)]
    [Parameter(ParameterSetName = StageSet)]
    [Parameter(ParameterSetName = ChunkSet)]
    public string? Description { get; set; }

    [Parameter(ParameterSetName = ScriptSet)]
    [Parameter(ParameterSetName = StageSet)]
    [Parameter(ParameterSetName = ChunkSet)]
    public string[]? Tag { get; set; }

    /// <summary>
    /// Who to tell when the job ends: hashtables like a spec's "notify" targets, for example
    /// @{ on = 'Failed', 'CompletedWithErrors'; webhook = 'env:TEAMS_HOOK'; format = 'teams' } or
    /// @{ on = 'Failed'; email = @{ to = 'ops@example.com'; smtp = 'env:SMTP' } }. Kept with the job.
    /// </summary>
    [Parameter(ParameterSetName = ScriptSet)]
    [Parameter(ParameterSetName = StageSet)]
    [Parameter(ParameterSetName = ChunkSet)]
    public System.Collections.Hashtable[]? Notify { get; set; }

    /// <summary>-Notify as checked targets (a bad one ends the command with BatchOps.InvalidNotify naming the fix); null without it.</summary>
    private IReadOnlyList<Engine.Notifications.NotificationTarget>? NotifyTargets()
    {
        if (Notify is null)
        {
            return null;
        }

        try
        {
            // On values may be one status or several: a single value becomes a list, as in the spec's form.
            var shaped = Notify.Select(h =>
            {
                var copy = new System.Collections.Hashtable(h, StringComparer.OrdinalIgnoreCase);
                if (copy["on"] is { } on && on is not System.Collections.IList && (on as PSObject)?.BaseObject is not System.Collections.IList)
                {
                    copy["on"] = new object[] { on };
                }

                if (copy["email"] is System.Collections.IDictionary email && email["to"] is string to)
                {
                    var mail = new System.Collections.Hashtable(email, StringComparer.OrdinalIgnoreCase) { ["to"] = new object[] { to } };
                    copy["email"] = mail;
                }

                return copy;
            }).ToArray();
            return Operations.Notifications.NotifyCheck.FromJson(Scripting.PSJson.ToText(shaped) ?? "[]", "-Notify");
        }
        catch (Operations.Spec.JobSpecException error)
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentException(error.Message, nameof(Notify), error), "BatchOps.InvalidNotify", ErrorCategory.InvalidArgument, Notify));
            throw;
        }
    }

    /// <summary>Extra arguments passed after the item.</summary>
    [Parameter(ParameterSetName = ScriptSet)]
    [Parameter(ParameterSetName = ChunkSet)]
    [Alias("Args")]
    public object[]? ArgumentList { get; set; }

    /// <summary>Modules imported in every worker runspace (the caller's modules are not visible there).</summary>
    [Parameter(ParameterSetName = ScriptSet)]
    [Parameter(ParameterSetName = ChunkSet)]
    public string[]? ImportModule { get; set; }

    /// <summary>Functions of the caller's session copied into every worker runspace.</summary>
    [Parameter(ParameterSetName = ScriptSet)]
    [Parameter(ParameterSetName = ChunkSet)]
    public string[]? Function { get; set; }

    /// <summary>Property of each item used as its key in results, logs and Get-BatchItem.</summary>
    [Parameter(ParameterSetName = ScriptSet)]
    [Parameter(ParameterSetName = ChunkSet)]
    public string? KeyProperty { get; set; }

    /// <summary>The job's name, given or generated once per invocation.</summary>
    /// <summary>
    /// <para type="description">The stages of the job, each a hashtable: Name, InputObject and ScriptBlock (required), and optionally
    /// DependsOn (stage names that must complete first), UndoScriptBlock, KeyProperty, ArgumentList, ImportModule and the settings
    /// ThrottleLimit, ChunkSize, RetryCount, RetryDelayMs, TimeoutSeconds, RateLimit, StopOnError, MaxErrors. Stages run in dependency
    /// order, independent ones at the same time; a stage whose dependency did not complete is skipped.</para>
    /// </summary>
    [Parameter(ParameterSetName = StageSet, Mandatory = true, HelpMessage = "The stages: hashtables with Name, InputObject, ScriptBlock and optionally DependsOn, UndoScriptBlock, KeyProperty and settings.")]
    [ValidateNotNullOrEmpty]
    public System.Collections.Hashtable[]? Stage { get; set; }

    /// <summary>
    /// <para type="description">Undoes one succeeded item: $_ is the item and $BatchOutput what -ScriptBlock returned for it (say, the id of what
    /// it created). Runs on -OnFailure Rollback and Undo-BatchJob, items newest first.</para>
    /// </summary>
    [Parameter(ParameterSetName = ScriptSet)]
    public ScriptBlock? UndoScriptBlock { get; set; }

    /// <summary>
    /// <para type="description">Rollback: when the job ends with failed items or is stopped by its error policy, undo every item that succeeded
    /// (the undo script blocks; stages in reverse dependency order). Continue (the default) keeps them.</para>
    /// </summary>
    [Parameter(ParameterSetName = ScriptSet)]
    [Parameter(ParameterSetName = ChunkSet)]
    [Parameter(ParameterSetName = StageSet)]
    [ValidateSet("Continue", "Rollback")]
    public string? OnFailure { get; set; }

    /// <summary>
    /// <para type="description">Which outputs the store keeps for later (Get-BatchItem, exports, the dashboard): All (the default), Failed
    /// (only what failed items record: succeeded items keep their input, status and timing, not their output) or None. Outputs
    /// still reach the pipeline as items complete. A resume or retry keeps what the job was created with. A job with an undo
    /// script block keeps All (undo reads $BatchOutput).</para>
    /// </summary>
    [Parameter(ParameterSetName = ScriptSet)]
    [Parameter(ParameterSetName = ChunkSet)]
    [Parameter(ParameterSetName = StageSet)]
    [ValidateSet("All", "Failed", "None")]
    public string? KeepOutput { get; set; }

    /// <summary>
    /// <para type="description">Store the job and queue it for workers (Start-BatchWorker on any host) instead of running it here; the
    /// command returns the job at once, status Queued. Needs a PostgreSQL store (-Store, $env:BATCHOPS_STORE). A staged job's
    /// stages are claimed by workers in dependency order, each once every stage it depends on has completed; a job with
    /// -OnFailure Rollback that fails is rolled back by the worker that ends it.</para>
    /// </summary>
    [Parameter(ParameterSetName = ScriptSet)]
    [Parameter(ParameterSetName = ChunkSet)]
    [Parameter(ParameterSetName = StageSet)]
    [Parameter(ParameterSetName = SpecPathSet)]
    [Parameter(ParameterSetName = SpecSet)]
    public SwitchParameter Queue { get; set; }

    /// <summary>
    /// <para type="description">$using: variables whose names look like secrets (token, password, key, credential…) that are not secrets and may
    /// be stored with the job. A SecureString or PSCredential is never stored, whatever its name.</para>
    /// </summary>
    [Parameter(ParameterSetName = ScriptSet)]
    [Parameter(ParameterSetName = ChunkSet)]
    [Parameter(ParameterSetName = StageSet)]
    [ValidateNotNullOrEmpty]
    public string[]? PersistUsing { get; set; }

    /// <summary>
    /// <para type="description">$using: variables that hold secrets although their names do not say so: kept in this session's memory for the
    /// run, never stored (a resume in another session passes them with -UsingValue).</para>
    /// </summary>
    [Parameter(ParameterSetName = ScriptSet)]
    [Parameter(ParameterSetName = ChunkSet)]
    [Parameter(ParameterSetName = StageSet)]
    [ValidateNotNullOrEmpty]
    public string[]? SecretVariable { get; set; }

    /// <summary>
    /// <para type="description">Which failures are tried again (within -RetryCount), instead of the default rule: a script block that gets the
    /// error record as $_ and returns $true to retry, run in the runspace that ran the item; or error type names (an exception's full or
    /// short name, or a recorded error type such as HttpStatus or RetryAfter), and then only failures of those types are retried.</para>
    /// </summary>
    [Parameter(ParameterSetName = ScriptSet)]
    [Parameter(ParameterSetName = ChunkSet)]
    [Parameter(ParameterSetName = StageSet)]
    [ValidateNotNullOrEmpty]
    public object[]? RetryOn { get; set; }

    /// <summary>
    /// <para type="description">Failures that are never tried again, whatever else says: a script block that gets the error record as $_ and
    /// returns $true for no retry, or error type names. Wins over -RetryOn.</para>
    /// </summary>
    [Parameter(ParameterSetName = ScriptSet)]
    [Parameter(ParameterSetName = ChunkSet)]
    [Parameter(ParameterSetName = StageSet)]
    [ValidateNotNullOrEmpty]
    public object[]? NoRetryOn { get; set; }

    internal override string[]? RetryOnNames => RetryRule(RetryOn, nameof(RetryOn)).Names;

    internal override string[]? NoRetryOnNames => RetryRule(NoRetryOn, nameof(NoRetryOn)).Names;

    /// <summary>-RetryOn / -NoRetryOn: one script block (kept with every script block of the job) or error type names (kept in its settings).</summary>
    private (string[]? Names, string? Script) RetryRule(object[]? values, string parameter)
    {
        if (values is null)
        {
            return (null, null);
        }

        var given = values.Select(v => v is PSObject wrapped ? wrapped.BaseObject : v).ToArray();
        if (given is [ScriptBlock block])
        {
            return (null, block.ToString());
        }

        if (given.All(v => v is string { Length: > 0 } or Type))
        {
            return ([.. given.Select(v => v is Type type ? type.FullName ?? type.Name : ((string)v!).Trim())], null);
        }

        Fail($"-{parameter} takes one script block (it gets the error record as $_ and returns $true or $false) or error type names such as 'System.TimeoutException' or 'HttpStatus'; it was given {string.Join(", ", given.Select(v => v?.GetType().Name ?? "$null"))}.");
        return (null, null);
    }

    /// <summary>
    /// <para type="description">A JSON Schema every piped item must match, checked before the job is created, with the messages of a spec's
    /// "itemSchema" ("item 17: /price: must be &gt;= 0.01"): a hashtable, a JSON string, or the path of a schema file. Items are checked as
    /// ConvertTo-Json would write them (objects by their properties). With it, items are stored first and run once the input has ended.</para>
    /// </summary>
    [Parameter(ParameterSetName = ScriptSet)]
    [Parameter(ParameterSetName = ChunkSet)]
    [ValidateNotNull]
    public object? ItemSchema { get; set; }

    /// <summary>
    /// <para type="description">What -ItemSchema does with items that miss it: Reject (the default) creates nothing and lists the violations;
    /// Fail records those items Failed (error type ValidationError, never run) and runs the rest.</para>
    /// </summary>
    [Parameter(ParameterSetName = ScriptSet)]
    [Parameter(ParameterSetName = ChunkSet)]
    [ValidateSet("Reject", "Fail")]
    public string InvalidItems { get; set; } = "Reject";

    /// <summary>The item checks of -ItemSchema, once <see cref="OpenItemChecks"/> has loaded the schema.</summary>
    internal ItemChecks? Checks { get; private set; }

    /// <summary>Loads -ItemSchema, ending the command with what is wrong with it.</summary>
    internal void OpenItemChecks()
    {
        if (ItemSchema is null)
        {
            if (MyInvocation.BoundParameters.ContainsKey(nameof(InvalidItems)))
            {
                Fail("-InvalidItems says what to do with items that miss -ItemSchema; give -ItemSchema too.");
            }

            return;
        }

        try
        {
            Checks = ItemChecks.Load(ItemSchema, SessionState.Path.CurrentFileSystemLocation.ProviderPath, InvalidItems.Equals("Fail", StringComparison.OrdinalIgnoreCase));
        }
        catch (Operations.Spec.JobSpecException error)
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentException(error.Message, error), "BatchOps.InvalidItemSchema", ErrorCategory.InvalidArgument, ItemSchema));
        }
    }

    /// <summary>Checks one piped item against -ItemSchema (when given).</summary>
    internal void CheckItem(object? input, long index) => Checks?.Check(input, index);

    /// <summary>
    /// Once the input has ended: with -InvalidItems Reject and an item that missed the schema, removes what the
    /// creation stored and ends the command listing the violations; with Fail, writes an error per failed item.
    /// </summary>
    internal void SettleItemChecks(StreamingJobCreation creation)
    {
        if (Checks is null)
        {
            return;
        }

        if (Checks.Rejection() is { } rejected)
        {
            creation.Cancel();
            ThrowTerminatingError(new ErrorRecord(new ArgumentException(rejected), "BatchOps.ItemsRejected", ErrorCategory.InvalidData, null));
        }

        foreach (var failure in Checks.Failures)
        {
            WriteError(new ErrorRecord(new ArgumentException(failure), "BatchOps.InvalidItem", ErrorCategory.InvalidData, failure));
        }
    }

    internal string JobName => Name ??= $"batch-{DateTime.Now:yyyyMMdd-HHmmss}";

    /// <summary>
    /// -Queue: ends the command before anything is stored when the store cannot queue jobs for workers, or when
    /// the job has secret values, which are never stored and so could never reach a worker.
    /// </summary>
    internal void CheckQueueable(JobDefinition definition)
    {
        if (JobStore is not Engine.Workers.IWorkQueue)
        {
            var problem = $"-Queue needs a job store that workers share: '{JobStore.Location}' is one machine's SQLite file. Point -Store (or $env:BATCHOPS_STORE) at a PostgreSQL database: postgresql://user@host/database, or env:NAME.";
            ThrowTerminatingError(new ErrorRecord(new ArgumentException(problem), ErrorRecordInfo.InvalidSettingId, ErrorCategory.InvalidArgument, JobStore.Location));
        }

        if (SecretVault.HasSecrets(definition))
        {
            var names = string.Join(", ", SecretVault.SecretVariables(definition).Select(n => "$using:" + n));
            var problem = $"-Queue: the job has secret values ({(names.Length == 0 ? "-ArgumentList" : names)}) that are never stored, so workers on other hosts could not get them. Read the secret inside the script block on the worker instead (Get-Secret from Microsoft.PowerShell.SecretManagement, or an environment variable the worker's service sets).";
            ThrowTerminatingError(new ErrorRecord(new ArgumentException(problem), ErrorRecordInfo.SecretNotQueueableId, ErrorCategory.InvalidArgument, names));
        }
    }

    /// <summary>-Queue: queues a stored job for workers and returns it as the store now has it (Queued).</summary>
    internal BatchJob QueueStoredJob(JobRecord job) => OrStoreError(() =>
    {
        ((Engine.Workers.IWorkQueue)JobStore).EnqueueAsync(job.Id).GetAwaiter().GetResult();
        return Output.OutputViews.View(JobStore.GetJobAsync(job.Id).GetAwaiter().GetResult()!, JobStore.Location);
    });

    /// <summary>The settings with -OnFailure and -KeepOutput, when given, over them.</summary>
    private JobSettings WithJobChoices(JobSettings settings)
    {
        if (KeepOutput is not null)
        {
            settings = settings with { KeepOutput = Enum.Parse<OutputKeeping>(KeepOutput, ignoreCase: true) };
        }

        return OnFailure is null ? settings : settings with { OnFailure = string.Equals(OnFailure, "Rollback", StringComparison.OrdinalIgnoreCase) ? FailureAction.Rollback : FailureAction.Continue };
    }

    private static readonly string[] StageKeys =
        ["Name", "DependsOn", "InputObject", "ScriptBlock", "UndoScriptBlock", "KeyProperty", "ArgumentList", "ImportModule",
         "ThrottleLimit", "ChunkSize", "RetryCount", "RetryDelayMs", "TimeoutSeconds", "RateLimit", "StopOnError", "MaxErrors"];

    /// <summary>
    /// A job of -Stage hashtables: each checked (unknown or mistyped keys are named), its items numbered after
    /// the stages before it, its script blocks captured with their $using: values; then the dependencies.
    /// </summary>
    internal (JobDefinition Definition, List<KeyedInput> Items) BuildStagedDefinition()
    {
        var settings = WithJobChoices(ResolveSettings(JobName));
        var stages = new List<JobStage>();
        var items = new List<KeyedInput>();
        for (var i = 0; i < Stage!.Length; i++)
        {
            var table = Stage[i];
            var where = $"-Stage {i + 1}";
            foreach (var key in table.Keys.Cast<object>().Select(k => k.ToString()!))
            {
                if (!StageKeys.Contains(key, StringComparer.OrdinalIgnoreCase))
                {
                    var near = StageKeys.FirstOrDefault(k => k.StartsWith(key[..Math.Min(3, key.Length)], StringComparison.OrdinalIgnoreCase));
                    Fail($"{where} has an unknown key '{key}'.{(near is null ? string.Empty : $" Did you mean '{near}'?")} Valid keys: {string.Join(", ", StageKeys)}.");
                }
            }

            object? Get(string key) => table.Keys.Cast<object>().FirstOrDefault(k => string.Equals(k.ToString(), key, StringComparison.OrdinalIgnoreCase)) is { } k ? PSObject.AsPSObject(table[k]).BaseObject : null;
            var name = Get("Name")?.ToString();
            if (string.IsNullOrWhiteSpace(name))
            {
                Fail($"{where} needs a Name.");
            }

            where = $"Stage '{name}'";
            if (Get("ScriptBlock") is not ScriptBlock block)
            {
                Fail($"{where} needs a ScriptBlock (the script block to run for each of its items).");
                throw new InvalidOperationException();
            }

            if (!table.Keys.Cast<object>().Any(k => string.Equals(k.ToString(), "InputObject", StringComparison.OrdinalIgnoreCase)))
            {
                Fail($"{where} needs an InputObject (its items; @() for none).");
            }

            JobSettings own;
            try
            {
                own = new JobSettings
                {
                    ThrottleLimit = Int("ThrottleLimit"),
                    ChunkSize = Int("ChunkSize"),
                    RetryCount = Int("RetryCount"),
                    RetryDelayMs = Int("RetryDelayMs"),
                    TimeoutSeconds = Double("TimeoutSeconds"),
                    RateLimit = Double("RateLimit"),
                    StopOnError = Get("StopOnError") is { } stop ? LanguagePrimitives.IsTrue(stop) : null,
                    MaxErrors = Int("MaxErrors"),
                };
                _ = own.Over(settings).ToOptions();
            }
            catch (Exception error) when (error is ArgumentOutOfRangeException or PSInvalidCastException or FormatException or InvalidCastException)
            {
                Fail($"{where}: {(error is ArgumentOutOfRangeException range ? SettingNames.Explain(range) : error.Message)}");
                throw;
            }

            int? Int(string key) => Get(key) is { } value ? LanguagePrimitives.ConvertTo<int>(value) : null;
            double? Double(string key) => Get(key) is { } value ? LanguagePrimitives.ConvertTo<double>(value) : null;

            var keyProperty = Get("KeyProperty")?.ToString();
            var first = items.Count;
            var input = Get("InputObject");
            var values = input is null ? [null] : LanguagePrimitives.GetEnumerable(input) is { } many && input is not string ? many.Cast<object?>() : [input];
            var keys = new HashSet<string>(StringComparer.Ordinal);
            foreach (var value in values)
            {
                var key = PropertyText(value is null ? null : PSObject.AsPSObject(value), keyProperty);
                if (key is not null && !keys.Add(key))
                {
                    Fail($"{where} has two items with the key '{key}' (-KeyProperty {keyProperty}). Keys name items and make their idempotency keys, so they must be unique within a stage.");
                }

                items.Add(new KeyedInput(value, key));
            }

            var arguments = Get("ArgumentList") is { } args ? LanguagePrimitives.GetEnumerable(args)?.Cast<object>().ToArray() ?? [args] : null;
            var modules = Get("ImportModule") is { } imports ? (LanguagePrimitives.GetEnumerable(imports)?.Cast<object>() ?? [imports]).Select(m => m.ToString()!).ToArray() : null;
            stages.Add(new JobStage
            {
                Name = name!,
                DependsOn = Get("DependsOn") is { } deps ? (LanguagePrimitives.GetEnumerable(deps)?.Cast<object>() ?? [deps]).Select(d => d.ToString()!).ToArray() : [],
                FirstIndex = first,
                Count = items.Count - first,
                OperationKind = ScriptOperationSpec.Kind,
                Operation = ScriptSpec(block, perChunk: false, arguments, modules, NoFunctions),
                Settings = own,
                Undo = Get("UndoScriptBlock") is ScriptBlock undo
                    ? new UndoDefinition { OperationKind = ScriptOperationSpec.Kind, Operation = ScriptSpec(undo, perChunk: false, arguments, modules, NoFunctions) }
                    : null,
            });
        }

        try
        {
            _ = StageOrder.Sort(stages);
        }
        catch (ArgumentException error)
        {
            Fail(error.Message);
        }

        if (settings.OnFailure == FailureAction.Rollback && stages.All(s => s.Undo is null))
        {
            Fail("-OnFailure Rollback needs an UndoScriptBlock in at least one stage, or nothing could be rolled back.");
        }

        var definition = new JobDefinition
        {
            Name = JobName,
            Description = Description,
            Tags = Tag ?? [],
            Settings = settings,
            OperationKind = ScriptOperationSpec.Kind,
            Operation = ScriptSpec(ScriptBlock.Create("throw 'A staged job runs its stages.'"), perChunk: false, null, null, NoFunctions),
            Stages = stages,
            Notify = NotifyTargets(),
        };
        return (definition, items);
    }

    private static readonly Dictionary<string, string> NoFunctions = [];

    /// <summary>
    /// Whether a $using: value is kept out of the store: it holds a SecureString (a PSCredential too, at any
    /// depth), or -SecretVariable names it, or its name says secret (<see cref="Engine.Jobs.SecretNames.IsSecretVariable"/>)
    /// and -PersistUsing does not name it.
    /// </summary>
    private bool IsSecretUsing(string name, string cliXml) =>
        ScriptSecrets.HoldsSecureString(cliXml)
        || SecretVariable?.Contains(name, StringComparer.OrdinalIgnoreCase) == true
        || (Engine.Jobs.SecretNames.IsSecretVariable(name) && PersistUsing?.Contains(name, StringComparer.OrdinalIgnoreCase) != true);

    private void Fail(string message) =>
        ThrowTerminatingError(new ErrorRecord(new ArgumentException(message), ErrorRecordInfo.InvalidSettingId, ErrorCategory.InvalidArgument, null));

    /// <summary>A script block with its $using: values and the rest of how workers run it, as stored.</summary>
    private string ScriptSpec(ScriptBlock block, bool perChunk, object[]? arguments, string[]? modules, IReadOnlyDictionary<string, string> functions)
    {
        var (script, usings) = UsingCapture.Capture(block, SessionState);
        var stored = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var secret = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in usings)
        {
            var xml = CliXmlCodec.SerializeKeepingSecrets(value);
            (IsSecretUsing(name, xml) ? secret : stored)[name] = xml;
        }

        var argumentXml = arguments is null ? null : CliXmlCodec.SerializeKeepingSecrets(arguments);
        var secretArguments = argumentXml is not null && ScriptSecrets.HoldsSecureString(argumentXml);
        var spec = new ScriptOperationSpec
        {
            Script = script,
            PerChunk = perChunk,
            ArgumentList = secretArguments ? null : argumentXml,
            UsingValues = stored,
            SecretUsings = [.. secret.Keys],
            SecretArgumentList = secretArguments,
            SecretsId = secret.Count > 0 || secretArguments ? SecretVault.Keep(secret, secretArguments ? argumentXml : null) : null,
            ImportModule = modules ?? [],
            Functions = new Dictionary<string, string>(functions, StringComparer.OrdinalIgnoreCase),
            RetryOnScript = RetryRule(RetryOn, nameof(RetryOn)).Script,
            NoRetryOnScript = RetryRule(NoRetryOn, nameof(NoRetryOn)).Script,
        };
        return JsonSerializer.Serialize(spec, StoreJson.Options);
    }

    /// <summary>Builds the job definition: settings (validated), script, $using: values, functions.</summary>
    internal JobDefinition BuildDefinition()
    {
        var settings = WithJobChoices(ResolveSettings(JobName));
        var block = ScriptBlock ?? ChunkScriptBlock!;
        var functions = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var name in Function ?? [])
        {
            if (InvokeCommand.GetCommand(name, CommandTypes.Function) is not FunctionInfo function)
            {
                ThrowTerminatingError(new ErrorRecord(
                    new ArgumentException($"-Function names '{name}', but there is no such function in this session. Define it first, or load it in the workers with -ImportModule."),
                    "BatchOps.FunctionNotFound", ErrorCategory.ObjectNotFound, name));
                throw new InvalidOperationException();
            }

            functions[function.Name] = function.Definition;
        }

        if (settings.OnFailure == FailureAction.Rollback && UndoScriptBlock is null)
        {
            Fail("-OnFailure Rollback needs -UndoScriptBlock (what undoes one succeeded item), or nothing could be rolled back.");
        }

        return new JobDefinition
        {
            Name = JobName,
            Description = Description,
            Tags = Tag ?? [],
            Settings = settings,
            OperationKind = ScriptOperationSpec.Kind,
            Operation = ScriptSpec(block, ChunkScriptBlock is not null, ArgumentList, ImportModule, functions),
            Undo = UndoScriptBlock is null ? null : new UndoDefinition { OperationKind = ScriptOperationSpec.Kind, Operation = ScriptSpec(UndoScriptBlock, perChunk: false, ArgumentList, ImportModule, functions) },
            Notify = NotifyTargets(),
        };
    }

    internal string? KeyOf(PSObject? item) => PropertyText(item, KeyProperty);
}
