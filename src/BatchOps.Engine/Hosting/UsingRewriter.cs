using System.Text;

namespace BatchOps.Engine.Hosting;

/// <summary>A <c>$using:name</c> reference found in a script: where it stands and the variable it names.</summary>
/// <param name="Offset">Offset of the <c>$</c> in the script text.</param>
/// <param name="Length">Length of the variable reference (<c>$using:name</c> or <c>${using:name}</c>).</param>
/// <param name="Name">The caller's variable name.</param>
public readonly record struct UsingReference(int Offset, int Length, string Name);

/// <summary>
/// Makes <c>$using:</c> work in worker runspaces: each <c>$using:name</c> becomes a plain variable
/// (<see cref="VariableFor"/>) that the worker defines with the value read from the caller when the job
/// was built. Property and index access after it (<c>$using:cfg.Path</c>) keeps working unchanged.
/// </summary>
public static class UsingRewriter
{
    /// <summary>Prefix of the variables that carry <c>$using:</c> values into worker runspaces.</summary>
    public const string Prefix = "__BatchOpsUsing_";

    /// <summary>The variable name that replaces <c>$using:name</c>.</summary>
    public static string VariableFor(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var safe = new StringBuilder(name.Length);
        foreach (var c in name)
        {
            safe.Append(char.IsLetterOrDigit(c) || c == '_' ? c : '_');
        }

        return Prefix + safe;
    }

    /// <summary>Rewrites the references (found by the caller in the script's syntax tree) into plain variables.</summary>
    public static string Rewrite(string script, IEnumerable<UsingReference> references)
    {
        ArgumentNullException.ThrowIfNull(script);
        ArgumentNullException.ThrowIfNull(references);
        var text = new StringBuilder(script);
        foreach (var reference in references.OrderByDescending(r => r.Offset))
        {
            if (reference.Offset < 0 || reference.Offset + reference.Length > script.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(references), reference, "A $using: reference lies outside the script text.");
            }

            text.Remove(reference.Offset, reference.Length).Insert(reference.Offset, "$" + VariableFor(reference.Name));
        }

        return text.ToString();
    }
}
