using System.Collections;
using System.Text.Json;
using BatchOps.Engine.Jobs;
using BatchOps.Engine.Store;
using BatchOps.Operations.Spec;

namespace BatchOps.PowerShell.Scripting;

/// <summary>
/// -ItemSchema on the script-block cmdlets: each piped item, as JSON (<see cref="PSJson"/>), is checked against
/// the schema with the same checker and the same messages as a spec's "itemSchema" ("item 17: /price: must be
/// &gt;= 0.01"). -InvalidItems Reject (the default) creates nothing when any item misses; Fail records those
/// items Failed (error type ValidationError) at creation, so they never run.
/// </summary>
internal sealed class ItemChecks
{
    private readonly ItemSchema _schema;
    private readonly List<ItemOutcome> _failed = [];
    private readonly List<string> _failures = [];

    private ItemChecks(ItemSchema schema, bool failInvalid) => (_schema, FailInvalid) = (schema, failInvalid);

    public bool FailInvalid { get; }

    /// <summary>The items recorded Failed at creation (-InvalidItems Fail), filled as they arrive and read once the input has ended.</summary>
    public IReadOnlyList<ItemOutcome> Failed => _failed;

    /// <summary>Why each of <see cref="Failed"/> failed: "item 3: /price: must be &gt;= 0.01".</summary>
    public IReadOnlyList<string> Failures => _failures;

    /// <summary>
    /// The schema given as a hashtable, a JSON string or the path of a schema file (relative to
    /// <paramref name="currentFolder"/>); throws <see cref="JobSpecException"/> naming what is wrong with it.
    /// </summary>
    public static ItemChecks Load(object schema, string currentFolder, bool failInvalid)
    {
        var given = schema is System.Management.Automation.PSObject wrapped ? wrapped.BaseObject : schema;
        JsonElement element;
        if (given is IDictionary)
        {
            element = PSJson.ToElement(given);
        }
        else if (given is string text && text.TrimStart().StartsWith('{'))
        {
            try
            {
                using var document = JsonDocument.Parse(text);
                element = document.RootElement.Clone();
            }
            catch (JsonException error)
            {
                throw new JobSpecException($"-ItemSchema is not valid JSON: {error.Message}", error);
            }
        }
        else if (given is string path)
        {
            element = JsonSerializer.SerializeToElement(path);
        }
        else
        {
            throw new JobSpecException($"-ItemSchema takes a hashtable, a JSON Schema as a JSON string, or the path of a schema file; it was given a {given.GetType().Name}.");
        }

        return new ItemChecks(ItemSchema.Load(element, currentFolder, "-ItemSchema")!, failInvalid);
    }

    /// <summary>Checks item <paramref name="index"/>; false when it misses the schema (in Fail mode it is then recorded Failed).</summary>
    public bool Check(object? input, long index)
    {
        var item = PSJson.ToElement(input);
        if (_schema.Check(item, index))
        {
            return true;
        }

        if (FailInvalid)
        {
            var why = _schema.Explain(item) ?? "does not match -ItemSchema";
            _failed.Add(new ItemOutcome(index, Engine.Jobs.ItemStatus.Failed, 0, null, new ItemError(ItemError.ValidationErrorType, why, null, isRetryable: false), null, DateTimeOffset.UtcNow, TimeSpan.Zero));
            _failures.Add($"item {index}: {why}");
        }

        return false;
    }

    /// <summary>In Reject mode, the error that lists the violations when any item missed; null when all matched (or in Fail mode).</summary>
    public string? Rejection()
    {
        if (FailInvalid)
        {
            return null;
        }

        try
        {
            _schema.ThrowIfViolated("-ItemSchema");
            return null;
        }
        catch (JobSpecException violated)
        {
            return violated.Message;
        }
    }
}
