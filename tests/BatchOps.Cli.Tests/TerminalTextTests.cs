using BatchOps.Operations;
using BatchOps.Cli.Output;
using BatchOps.Cli.Tests.Support;
using BatchOps.Engine.Tests.Support;

namespace BatchOps.Cli.Tests;

public sealed class TerminalTextTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Theory]
    [InlineData("plain text, tabs\tand ünïcödé 😀", "plain text, tabs\tand ünïcödé 😀")]
    [InlineData("\u001b[2J\u001b]0;owned\u0007", "\\e[2J\\e]0;owned\\x07")]
    [InlineData("a\r\nb\0", "a\\r\\nb\\0")]
    [InlineData("\u009b31m\u007f", "\\x9B31m\\x7F")]
    [InlineData("abc\u202Etxt.exe", "abc\\u202Etxt.exe")]
    public void Escape_ControlCharacters_BecomeVisibleEscapes(string text, string expected) =>
        Assert.Equal(expected, TerminalText.Escape(text));

    [Fact]
    public async Task Show_AnOutputWithTerminalEscapes_PrintsThemVisibly_NeverRaw()
    {
        var store = Path.Combine(_folder.Path, "store");
        var spec = SpecFiles.Write(_folder.Path, new
        {
            name = "esc",
            items = new[] { new { n = 1 } },
            operation = new { kind = "exec", command = "printf", args = new[] { "\\033[2J\\033]0;owned\\007done" } },
        });
        Assert.Equal(0, (await CliHarness.RunAsync(store, "run", spec)).ExitCode);

        var show = await CliHarness.RunAsync(store, "show", "esc", "--items");

        Assert.Equal(0, show.ExitCode);
        Assert.DoesNotContain('\u001b', show.Out);
        Assert.DoesNotContain('\u0007', show.Out);
        Assert.Contains("\\e[2J\\e]0;owned\\x07done", show.Out, StringComparison.Ordinal);
    }
}
