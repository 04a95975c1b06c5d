namespace BatchOps.Engine.Jobs;

/// <summary>
/// Turns item inputs or outputs into stored text and back. The engine stores the text and the format name
/// only; the front end that created a job owns its codec (JSON for the batchops command, CliXml for PowerShell).
/// </summary>
public interface IPayloadCodec<T>
{
    /// <summary>Name stored with the job, for example "json" or "clixml".</summary>
    string Format { get; }

    /// <summary>Serializes a value for the store.</summary>
    string Serialize(T value);

    /// <summary>Reads a stored value back; throws with a clear message when the text is not in this format.</summary>
    T Deserialize(string payload);
}
