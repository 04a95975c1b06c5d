using System.Text.Json;

namespace BatchOps.Cli.Spec;

/// <summary>
/// The operation of a spec: <c>exec</c> (command, args, workingDirectory, env) or <c>http</c>
/// (method, url, headers, body). String values may hold placeholders: {field.path}, {item}, {index}.
/// </summary>
public sealed class OperationSpec
{
    public const string Exec = "exec";
    public const string Http = "http";

    /// <summary>"exec" or "http".</summary>
    public string? Kind { get; set; }

    /// <summary>exec: program to start (looked up on PATH).</summary>
    public string? Command { get; set; }

    /// <summary>exec: arguments, passed without a shell.</summary>
    public List<string>? Args { get; set; }

    /// <summary>exec: working directory, relative to the spec file.</summary>
    public string? WorkingDirectory { get; set; }

    /// <summary>exec: extra environment variables.</summary>
    public Dictionary<string, string>? Env { get; set; }

    /// <summary>http: method; the default is GET.</summary>
    public string? Method { get; set; }

    /// <summary>http: absolute URL.</summary>
    public string? Url { get; set; }

    /// <summary>http: request headers.</summary>
    public Dictionary<string, string>? Headers { get; set; }

    /// <summary>http: body, a string (sent as text) or any JSON value (sent as JSON).</summary>
    public JsonElement? Body { get; set; }
}
