using System.Text.Json;
using BatchOps.Engine.Jobs;

namespace BatchOps.Cli.Spec;

/// <summary>A job spec file as written: name, items (inline or from a JSON Lines file), operation, settings.</summary>
public sealed class JobSpec
{
    /// <summary>Job name (required).</summary>
    public string? Name { get; set; }

    /// <summary>Optional description.</summary>
    public string? Description { get; set; }

    /// <summary>Optional tags.</summary>
    public List<string>? Tags { get; set; }

    /// <summary>Items as a JSON array.</summary>
    public JsonElement? Items { get; set; }

    /// <summary>Items as a JSON Lines file, relative to the spec file.</summary>
    public string? ItemsFile { get; set; }

    /// <summary>Optional template for each item's key, for example "{host}".</summary>
    public string? Key { get; set; }

    /// <summary>A JSON Schema every item must match before anything is created: inline, or a path relative to the spec file.</summary>
    public JsonElement? ItemSchema { get; set; }

    /// <summary>What runs per item.</summary>
    public OperationSpec? Operation { get; set; }

    /// <summary>Engine settings.</summary>
    public JobSettings? Settings { get; set; }
}
