namespace BatchOps.Engine.Hosting;

/// <summary>
/// Which stream preferences worker runspaces get: the caller's effective ones, decided here so it is tested
/// without PowerShell. A common parameter passed to the cmdlet wins (-Verbose / -Debug as switches,
/// -InformationAction / -WarningAction as values), else the caller's preference variable, else
/// SilentlyContinue. Inquire becomes Continue: a worker cannot prompt. Values are ActionPreference names.
/// With -WarningVariable or -InformationVariable, a SilentlyContinue stream still travels from the workers:
/// PowerShell fills the variable with what SilentlyContinue keeps off the screen, and the cmdlet's own write
/// applies the preference.
/// </summary>
public static class StreamPreferences
{
    private static readonly (string Variable, string? ActionParameter, string? SwitchParameter, string? VariableParameter)[] Streams =
    [
        ("VerbosePreference", null, "Verbose", null),
        ("DebugPreference", null, "Debug", null),
        ("InformationPreference", "InformationAction", null, "InformationVariable"),
        ("WarningPreference", "WarningAction", null, "WarningVariable"),
    ];

    /// <summary>Resolves the four preferences from the bound parameters (switches as bool) and the caller's variables.</summary>
    /// <param name="bound">The cmdlet's bound parameters, switches as bool.</param>
    /// <param name="variable">The caller's value of a preference variable, as text; null when unset.</param>
    public static Dictionary<string, string> Resolve(IReadOnlyDictionary<string, object?> bound, Func<string, string?> variable)
    {
        ArgumentNullException.ThrowIfNull(bound);
        ArgumentNullException.ThrowIfNull(variable);
        var resolved = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, actionParameter, switchParameter, variableParameter) in Streams)
        {
            string? value = null;
            if (switchParameter is not null && bound.TryGetValue(switchParameter, out var on) && on is bool isOn)
            {
                value = isOn ? "Continue" : "SilentlyContinue";
            }
            else if (actionParameter is not null && bound.TryGetValue(actionParameter, out var action) && action is not null)
            {
                value = action.ToString();
            }

            value ??= variable(name);
            value = string.IsNullOrEmpty(value) ? "SilentlyContinue"
                : string.Equals(value, "Inquire", StringComparison.OrdinalIgnoreCase) ? "Continue"
                : value;
            if (variableParameter is not null && bound.TryGetValue(variableParameter, out var collect) && collect is not null
                && string.Equals(value, "SilentlyContinue", StringComparison.OrdinalIgnoreCase))
            {
                value = "Continue";
            }

            resolved[name] = value;
        }

        return resolved;
    }
}
