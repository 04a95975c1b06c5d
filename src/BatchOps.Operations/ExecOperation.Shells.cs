using BatchOps.Operations.Spec;

namespace BatchOps.Operations;

/// <summary>
/// Exec passes every argument as one argv element and never runs a shell, so an item value stays one
/// argument. A spec can still start a shell itself and put a placeholder into its script (sh -c "echo {x}"),
/// where the value becomes code: that is warned about, with the safe form, unless the spec says it trusts the data.
/// </summary>
public sealed partial class ExecOperation
{
    private static readonly HashSet<string> PosixShells = new(StringComparer.OrdinalIgnoreCase) { "sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "fish", "busybox" };
    private static readonly HashSet<string> PowerShells = new(StringComparer.OrdinalIgnoreCase) { "pwsh", "powershell" };

    /// <summary>One warning per argument of <paramref name="args"/> that is shell code holding a placeholder, and one when the program itself comes from item data.</summary>
    internal static IReadOnlyList<string> ShellWarnings(Template command, IReadOnlyList<Template> args)
    {
        var warnings = new List<string>();
        if (command.HasPlaceholders)
        {
            warnings.Add($"{command.Where} \"{command.Source}\" lets item data choose the program to run. Name the program in the spec and pass item values as arguments, or set \"allowShellPlaceholders\": true if the data is trusted.");
        }

        var program = Path.GetFileNameWithoutExtension(command.Source.Replace('\\', '/'));
        var sources = args.Select(a => a.Source).ToList();
        var (firstScript, scriptsToEnd, safeForm) = program switch
        {
            _ when PosixShells.Contains(program) => (PosixScriptIndex(sources), false, $"pass the value as its own argument after the script and quote it there: \"args\": [\"-c\", \"echo \\\"$1\\\"\", \"{program}\", \"{{x}}\"]"),
            _ when PowerShells.Contains(program) => (PowerShellCommandIndex(sources), true, "use -File with a script and pass the value as an argument (\"args\": [\"-File\", \"script.ps1\", \"{x}\"]), read there as $args[0] or a param()"),
            _ when program.Equals("cmd", StringComparison.OrdinalIgnoreCase) => (sources.FindIndex(a => a.Equals("/c", StringComparison.OrdinalIgnoreCase) || a.Equals("/k", StringComparison.OrdinalIgnoreCase)) is var i and >= 0 ? i + 1 : -1, true, "run a program directly with the value as its own argument, or a script that reads %1"),
            _ => (-1, false, string.Empty),
        };
        if (firstScript < 0)
        {
            return warnings;
        }

        for (var i = firstScript; i < (scriptsToEnd ? args.Count : Math.Min(firstScript + 1, args.Count)); i++)
        {
            if (args[i].HasPlaceholders)
            {
                warnings.Add($"{args[i].Where} puts item data ({string.Join(", ", args[i].Placeholders)}) into shell code that {program} runs, where a value such as '; rm -rf ~' runs as a command. Safe form: {safeForm}. Set \"allowShellPlaceholders\": true on the operation if the data is trusted.");
            }
        }

        return warnings;
    }

    /// <summary>The script argument of a POSIX shell: the one after the first option cluster holding c (-c, -ec, -lc).</summary>
    private static int PosixScriptIndex(List<string> args)
    {
        var option = args.FindIndex(a => a.Length > 1 && a[0] == '-' && a[1] != '-' && a.Contains('c', StringComparison.Ordinal));
        return option < 0 ? -1 : option + 1;
    }

    /// <summary>The first argument of pwsh's command text: everything after -Command (or any prefix of it down to -c) is the script.</summary>
    private static int PowerShellCommandIndex(List<string> args)
    {
        var option = args.FindIndex(a => a.Length >= 2 && a[0] is '-' or '/' && "command".StartsWith(a[1..], StringComparison.OrdinalIgnoreCase));
        return option < 0 ? -1 : option + 1;
    }
}
