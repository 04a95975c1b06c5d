using System.Collections.ObjectModel;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Security;

namespace BatchOps.PowerShell.HostTests.Support;

/// <summary>
/// A host whose console is a list of lines: what PowerShell writes straight to the host (What if: lines of
/// -WhatIf, for one) can be asserted. Prompts are refused, as in a non-interactive session.
/// </summary>
public sealed class RecordingHost : PSHost
{
    private readonly RecordingUI _ui = new();

    /// <summary>Every line written to the host, in order.</summary>
    public IReadOnlyList<string> Lines => _ui.Lines;

    public override string Name => "BatchOps.RecordingHost";

    public override Version Version { get; } = new(1, 0);

    public override Guid InstanceId { get; } = Guid.NewGuid();

    public override PSHostUserInterface UI => _ui;

    public override CultureInfo CurrentCulture => CultureInfo.InvariantCulture;

    public override CultureInfo CurrentUICulture => CultureInfo.InvariantCulture;

    public override void SetShouldExit(int exitCode)
    {
    }

    public override void EnterNestedPrompt() => throw new NotSupportedException();

    public override void ExitNestedPrompt() => throw new NotSupportedException();

    public override void NotifyBeginApplication()
    {
    }

    public override void NotifyEndApplication()
    {
    }

    private sealed class RecordingUI : PSHostUserInterface
    {
        private readonly List<string> _lines = [];
        private string _partial = string.Empty;

        public IReadOnlyList<string> Lines
        {
            get
            {
                lock (_lines)
                {
                    return [.. _lines];
                }
            }
        }

        public override PSHostRawUserInterface? RawUI => null;

        public override void Write(string value)
        {
            lock (_lines)
            {
                _partial += value;
            }
        }

        public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) => Write(value);

        public override void WriteLine(string value)
        {
            lock (_lines)
            {
                _lines.Add(_partial + value);
                _partial = string.Empty;
            }
        }

        public override void WriteErrorLine(string value) => WriteLine(value);

        public override void WriteDebugLine(string message) => WriteLine(message);

        public override void WriteVerboseLine(string message) => WriteLine(message);

        public override void WriteWarningLine(string message) => WriteLine(message);

        public override void WriteProgress(long sourceId, ProgressRecord record)
        {
        }

        public override string ReadLine() => throw new NotSupportedException("The test host cannot read input.");

        public override SecureString ReadLineAsSecureString() => throw new NotSupportedException("The test host cannot read input.");

        public override Dictionary<string, PSObject> Prompt(string caption, string message, Collection<FieldDescription> descriptions) =>
            throw new NotSupportedException("The test host cannot prompt.");

        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) =>
            throw new NotSupportedException("The test host cannot prompt.");

        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName, PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options) =>
            throw new NotSupportedException("The test host cannot prompt.");

        public override int PromptForChoice(string caption, string message, Collection<ChoiceDescription> choices, int defaultChoice) =>
            throw new NotSupportedException("The test host cannot prompt.");
    }
}
