using System.Text.Json;
using BatchOps.Operations;
using BatchOps.Operations.Spec;
using FsCheck;
using FsCheck.Fluent;

namespace BatchOps.Operations.Tests.Templates;

/// <summary>How each context encodes a value, and the spec errors that keep item data out of structure.</summary>
public sealed class TemplateEncodingTests
{
    private static readonly JsonElement RfcVariables = JsonSerializer.SerializeToElement(new Dictionary<string, string>
    {
        ["var"] = "value",
        ["hello"] = "Hello World!",
        ["path"] = "/foo/bar",
        ["empty"] = string.Empty,
        ["half"] = "50%",
        ["base"] = "http://example.com/home/",
    });

    // RFC 6570 sections 1.2 (levels 1 and 2), 3.2.2 and 3.2.3.
    [Theory]
    [InlineData("{var}", "value")]
    [InlineData("{hello}", "Hello%20World%21")]
    [InlineData("{half}", "50%25")]
    [InlineData("O{empty}X", "OX")]
    [InlineData("{base}index", "http%3A%2F%2Fexample.com%2Fhome%2Findex")]
    [InlineData("{+var}", "value")]
    [InlineData("{+hello}", "Hello%20World!")]
    [InlineData("{+half}", "50%25")]
    [InlineData("{+path}/here", "/foo/bar/here")]
    [InlineData("here?ref={+path}", "here?ref=/foo/bar")]
    [InlineData("{+base}index", "http://example.com/home/index")]
    [InlineData("O{+empty}X", "OX")]
    public void UrlTemplate_RfcExamples_ExpandAsTheRfcSays(string template, string expected) =>
        Assert.Equal(expected, Template.Parse(template, "url", PlaceholderEncoding.Url).Render(RfcVariables, 0));

    /// <summary>
    /// Std.UriTemplate 2.0.13 as an oracle. Its reserved expansion passes control characters (C0 and C1), the
    /// noncharacters U+FDD0–U+FDEF and U+FFF0–U+FFFF, and " &lt; &gt; \ ^ ` { | } through unencoded, and drops the first of "%%41"'s percent signs (RFC 6570 3.2.3
    /// allows only reserved, unreserved and %XX), so a CR LF would reach the request line: that is why BatchOps
    /// encodes with its own two functions. Values with those characters are compared for simple expansion
    /// only, and checked below.
    /// </summary>
    [Fact]
    public void UriExpansion_AnyValue_MatchesStdUriTemplate_WhereItFollowsTheRfc()
    {
        Prop.ForAll(UntrustedValues.Any, value =>
        {
            var variables = new Dictionary<string, object> { ["v"] = value };
            var simpleAgrees = UriExpansion.Simple(value) == Std.UriTemplate.Expand("{v}", variables);
            var oracleFollowsRfc = !value.Any(c => char.IsControl(c) || c is >= '\uFDD0' and <= '\uFDEF' || c >= '\uFFF0' || "\"<>\\^`{|}%".Contains(c));
            return simpleAgrees && (!oracleFollowsRfc || UriExpansion.ReservedExpansion(value) == Std.UriTemplate.Expand("{+v}", variables));
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(500));
    }

    [Theory]
    [InlineData("a\r\nb", "a%0D%0Ab")]
    [InlineData("\0", "%00")]
    [InlineData("{x}|\"<>\\^`", "%7Bx%7D%7C%22%3C%3E%5C%5E%60")]
    [InlineData("/a b/%2F/%zz", "/a%20b/%2F/%25zz")]
    [InlineData("%%41\u0085", "%25%41%C2%85")]
    [InlineData("\uFDEF\uFFFE", "%EF%B7%AF%EF%BF%BE")]
    public void ReservedExpansion_EncodesWhatTheRfcDoesNotAllow(string value, string expected) =>
        Assert.Equal(expected, UriExpansion.ReservedExpansion(value));

    [Theory]
    [InlineData("{{\"name\": {n}}}", "{n}")]
    [InlineData("{{\"count\": {n}, \"name\": \"x\"}}", "{n}")]
    [InlineData("[\"a\", {n}]", "{n}")]
    public void JsonTextBody_PlaceholderOutsideAString_IsASpecError(string body, string placeholder)
    {
        var error = Assert.Throws<JobSpecException>(() => Compile(body, "application/json"));

        Assert.Contains(placeholder, error.Message, StringComparison.Ordinal);
        Assert.Contains("outside a JSON string", error.Message, StringComparison.Ordinal);
        Assert.Contains("Put it in quotes", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("application/merge-patch+json; charset=utf-8")]
    public void JsonTextBody_PlaceholderInAString_IsEscapedAsStringContent(string contentType)
    {
        var operation = Compile("{{\"name\": \"{n}\", \"note\": \"say \\\"{n}\\\"\"}}", contentType);
        var lines = operation.Render(JsonSerializer.SerializeToElement(new { n = "x\", \"admin\": true, \"y\": \"\\" }), 0)!;

        using var body = JsonDocument.Parse(lines[^1]);
        Assert.Equal(["name", "note"], body.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal("x\", \"admin\": true, \"y\": \"\\", body.RootElement.GetProperty("name").GetString());
    }

    [Fact]
    public void JsonTextBody_PlaceholderAfterABackslash_IsASpecError()
    {
        var error = Assert.Throws<JobSpecException>(() => Compile("{{\"name\": \"\\{n}\"}}", "application/json"));

        Assert.Contains("follows a backslash", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TextBody_OtherContentTypes_InsertValuesAsTheyAre()
    {
        var operation = Compile("name: {n}", "text/plain");

        Assert.Equal("name: a&b=\"c\"", operation.Render(JsonSerializer.SerializeToElement(new { n = "a&b=\"c\"" }), 0)![^1]);
    }

    [Fact]
    public void ReservedExpansion_OutsideAUrl_IsASpecError()
    {
        var error = Assert.Throws<JobSpecException>(() => Compile("{+n}", "text/plain"));

        Assert.Contains("only means something in a url", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ContentTypeHeader_WithAPlaceholder_IsASpecError()
    {
        var error = Assert.Throws<JobSpecException>(() => Compile("{n}", "{type}"));

        Assert.Contains("Content-Type", error.Message, StringComparison.Ordinal);
        Assert.Contains("cannot hold a placeholder", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sh", new[] { "-c", "echo {x}" }, "operation.args[1]")]
    [InlineData("/bin/bash", new[] { "-ec", "cp {src} /tmp" }, "operation.args[1]")]
    [InlineData("pwsh", new[] { "-NoProfile", "-Command", "Get-Item", "{x}" }, "operation.args[3]")]
    [InlineData("cmd.exe", new[] { "/c", "echo {x}" }, "operation.args[1]")]
    public void ExecShellScript_WithAPlaceholder_Warns_NamingTheArgumentAndTheSafeForm(string command, string[] args, string where)
    {
        var operation = OperationFactory.Compile(new OperationSpec { Kind = "exec", Command = command, Args = [.. args] }, Environment.CurrentDirectory, "operation");

        var warning = Assert.Single(operation.Warnings);
        Assert.StartsWith(where, warning, StringComparison.Ordinal);
        Assert.Contains("Safe form", warning, StringComparison.Ordinal);
        Assert.Contains("allowShellPlaceholders", warning, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sh", new[] { "-c", "echo \"$1\"", "sh", "{x}" })]
    [InlineData("echo", new[] { "-c", "{x}" })]
    [InlineData("pwsh", new[] { "-File", "script.ps1", "{x}" })]
    public void ExecWithoutShellCode_FromItems_DoesNotWarn(string command, string[] args) =>
        Assert.Empty(OperationFactory.Compile(new OperationSpec { Kind = "exec", Command = command, Args = [.. args] }, Environment.CurrentDirectory, "operation").Warnings);

    [Fact]
    public void ExecShellScript_AllowShellPlaceholders_SilencesTheWarning() =>
        Assert.Empty(OperationFactory.Compile(new OperationSpec { Kind = "exec", Command = "sh", Args = ["-c", "echo {x}"], AllowShellPlaceholders = true }, Environment.CurrentDirectory, "operation").Warnings);

    private static CompiledOperation Compile(string body, string contentType) =>
        OperationFactory.Compile(
            new OperationSpec { Kind = "http", Method = "POST", Url = "http://127.0.0.1:9/x", Headers = new() { ["Content-Type"] = contentType }, Body = JsonSerializer.SerializeToElement(body) },
            Environment.CurrentDirectory,
            "operation");
}
