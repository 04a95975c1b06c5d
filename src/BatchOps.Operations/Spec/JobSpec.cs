using System.Text.Json;
using BatchOps.Engine.Jobs;

namespace BatchOps.Operations.Spec;

/// <summary>What a spec and each of its stages share: where the items are, how they are checked, what runs and what undoes it.</summary>
public abstract class ItemsSpec
{
    /// <summary>Items as a JSON array.</summary>
    public JsonElement? Items { get; set; }

    /// <summary>Items as a JSON Lines file, relative to the spec file.</summary>
    public string? ItemsFile { get; set; }

    /// <summary>Optional template for each item's key, for example "{host}" (unique within the job or stage).</summary>
    public string? Key { get; set; }

    /// <summary>A JSON Schema every item must match before anything is created: inline, or a path relative to the spec file.</summary>
    public JsonElement? ItemSchema { get; set; }

    /// <summary>What runs per item.</summary>
    public OperationSpec? Operation { get; set; }

    /// <summary>What undoes one succeeded item (it gets the item and, as {output}, what the operation returned).</summary>
    public OperationSpec? Undo { get; set; }

    /// <summary>Settings for undo runs over the job's or stage's (say, more retries or a longer timeout).</summary>
    public JobSettings? UndoSettings { get; set; }

    /// <summary>
    /// What items that do not match "itemSchema" do: "reject" (the default: nothing is created) or "fail" (the job
    /// is created; they are recorded Failed with error type ValidationError and never run).
    /// </summary>
    public string? InvalidItems { get; set; }

    /// <summary>"first": of items with the same key, keep the first and drop the rest (the default rejects the spec).</summary>
    public string? Dedupe { get; set; }

    /// <summary>Engine settings (a stage's: over the job's).</summary>
    public JobSettings? Settings { get; set; }
}

/// <summary>A job spec file as written: name, items (inline or from a JSON Lines file), operation, settings; or stages.</summary>
public sealed class JobSpec : ItemsSpec
{
    /// <summary>Job name (required).</summary>
    public string? Name { get; set; }

    /// <summary>Optional description.</summary>
    public string? Description { get; set; }

    /// <summary>Optional tags.</summary>
    public List<string>? Tags { get; set; }

    /// <summary>"continue" (the default) or "rollback": undo every succeeded item when the job ends with failures.</summary>
    public FailureAction? OnFailure { get; set; }

    /// <summary>"all" (the default), "failed" or "none": which items' outputs the store keeps (<see cref="OutputKeeping"/>).</summary>
    public OutputKeeping? KeepOutput { get; set; }

    /// <summary>Stages, each with its own items and operation, run in dependency order (instead of items and operation).</summary>
    public List<StageSpec>? Stages { get; set; }

    /// <summary>
    /// Who to tell when the job ends: webhooks (JSON, Teams, Slack) and emails, each for the statuses it
    /// lists; every URL and SMTP server an <c>env:NAME</c> reference.
    /// </summary>
    public List<Engine.Notifications.NotificationTarget>? Notify { get; set; }
}

/// <summary>One stage of a job spec.</summary>
public sealed class StageSpec : ItemsSpec
{
    /// <summary>The stage's name, unique within the job.</summary>
    public string? Name { get; set; }

    /// <summary>Stages that must complete first.</summary>
    public List<string>? DependsOn { get; set; }
}
