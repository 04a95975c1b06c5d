using System.Management.Automation;

#pragma warning disable IDE0130 // The format views call it by its short name: [BatchOps.TerminalText]::Escape($_.Output).
namespace BatchOps;
#pragma warning restore IDE0130

/// <summary>
/// What items return, made safe to show on a terminal (the module's table views use it): control characters
/// and bidirectional overrides are written as visible escapes (\e, \r, \x07, \u202E) instead of acting, so an
/// output holding ESC sequences cannot clear the screen or retitle the terminal. The rule batchops uses.
/// </summary>
public static class TerminalText
{
    /// <summary><paramref name="value"/> as PowerShell shows it as text, with every character that would act on a terminal escaped.</summary>
    public static string Escape(object? value) =>
        Operations.TerminalText.Escape(value is null ? null : LanguagePrimitives.ConvertTo<string>(value));
}
