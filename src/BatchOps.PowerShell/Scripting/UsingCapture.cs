using System.Management.Automation;
using System.Management.Automation.Language;
using BatchOps.Engine.Hosting;

namespace BatchOps.PowerShell.Scripting;

/// <summary>
/// Reads the <c>$using:</c> variables of a script block from the caller's session, the way public modules
/// do it: find the UsingExpressionAst nodes, read each variable's value now, and rewrite the references to
/// plain variables that the worker runspaces define.
/// </summary>
internal static class UsingCapture
{
    public static (string Script, Dictionary<string, object?> Values) Capture(ScriptBlock script, SessionState caller)
    {
        var text = script.Ast.Extent.Text;
        var start = script.Ast.Extent.StartOffset;
        var references = new List<UsingReference>();
        var values = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
        foreach (var node in script.Ast.FindAll(a => a is UsingExpressionAst, searchNestedScriptBlocks: true).Cast<UsingExpressionAst>())
        {
            var variable = UsingExpressionAst.ExtractUsingVariable(node);
            var name = variable.VariablePath.UserPath;
            references.Add(new UsingReference(variable.Extent.StartOffset - start, variable.Extent.Text.Length, name));
            if (!values.ContainsKey(name))
            {
                var found = caller.PSVariable.Get(name)
                    ?? throw new ArgumentException($"The script block uses $using:{name}, but there is no variable '{name}' in the caller's scope. Define it before calling, or pass the value with -ArgumentList.");
                values[name] = found.Value;
            }
        }

        // The script block's own braces are not part of what the workers run.
        var body = UsingRewriter.Rewrite(text, references);
        if (script.Ast is ScriptBlockAst { Parent: ScriptBlockExpressionAst } && body.StartsWith('{') && body.EndsWith('}'))
        {
            body = body[1..^1];
        }

        return (body, values);
    }
}
