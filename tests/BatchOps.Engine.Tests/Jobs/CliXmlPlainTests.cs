using BatchOps.Engine.Jobs;

namespace BatchOps.Engine.Tests.Jobs;

public sealed class CliXmlPlainTests
{
    public static TheoryData<object?> PlainValues() =>
    [
        null, 0, -17, int.MaxValue, 5_000_000_000L, true, false, 2.5, -0.0001, Guid.Parse("0b8a3d2e-6f1c-4a5b-9e7d-3c2f1a0b9e8d"),
        "", "web01", "a<b&c>\"d'", "café", "under_score",
    ];

    [Theory]
    [MemberData(nameof(PlainValues))]
    public void TryWriteThenTryRead_GivesTheSameValueAndType(object? value)
    {
        var payload = CliXmlPlain.TryWrite(value);

        Assert.NotNull(payload);
        Assert.DoesNotContain('\n', payload);
        Assert.True(CliXmlPlain.TryRead(payload!, out var back));
        Assert.Equal(value, back);
        Assert.Equal(value?.GetType(), back?.GetType());
    }

    [Theory]
    [InlineData("x_x0041_y")]
    [InlineData("line\nbreak")]
    [InlineData("bad\uFFFEchar")]
    [InlineData("tab\there")]
    public void TryWrite_TextPowerShellEncodesItsOwnWay_IsLeftToTheFullSerializer(string text) =>
        Assert.Null(CliXmlPlain.TryWrite(text));

    [Fact]
    public void TryWrite_OtherTypes_AreLeftToTheFullSerializer()
    {
        Assert.Null(CliXmlPlain.TryWrite(DateTime.UnixEpoch));
        Assert.Null(CliXmlPlain.TryWrite(double.NaN));
        Assert.Null(CliXmlPlain.TryWrite(new object()));
        Assert.Null(CliXmlPlain.TryWrite("lone " + (char)0xD800));
    }

    [Theory]
    [InlineData("<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">\r\n  <I32>5</I32>\r\n</Objs>")]
    [InlineData("<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\"><Obj RefId=\"0\"><I32>5</I32></Obj></Objs>")]
    [InlineData("<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\"><S>a&#x41;</S></Objs>")]
    [InlineData("{\"n\":1}")]
    [InlineData("<S>x_x005F_x0041_y</S>")]
    [InlineData("<S>line_x000A_break</S>")]
    [InlineData("<S>tab_X0009_</S>")]
    public void TryRead_AnythingButThePlainForm_IsNotRead_AsPowerShellsEscapedText(string payload)
    {
        Assert.False(CliXmlPlain.TryRead(payload, out _));
        Assert.Null(CliXmlPlain.TryRender(payload));
    }

    private const string Head = "<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">";

    [Theory]
    [InlineData("\r\n")]
    [InlineData("\n")]
    public void Compact_DropsTheWrapperAndTheIndentation_AndExpandGivesTheDocumentBack(string newLine)
    {
        var document = string.Join(newLine, Head, "  <Obj RefId=\"0\">", "    <MS>", "      <S N=\"Text\">two  spaces_x000A_ and a break</S>", "      <S N=\"Blank\">   </S>", "    </MS>", "  </Obj>", "</Objs>");

        var compact = CliXmlPlain.Compact(document);

        Assert.Equal("<Obj RefId=\"0\"><MS><S N=\"Text\">two  spaces_x000A_ and a break</S><S N=\"Blank\">   </S></MS></Obj>", compact);
        Assert.Equal(Head + compact + "</Objs>", CliXmlPlain.Expand(compact));
        Assert.Equal(document, CliXmlPlain.Expand(document));
    }

    [Fact]
    public void Compact_KeepsAWrapperItDoesNotKnow()
    {
        const string Other = "<Objs Version=\"9.9\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\"><I32>1</I32></Objs>";

        Assert.Equal(Other, CliXmlPlain.Compact(Other));
        Assert.Equal(Other, CliXmlPlain.Expand(Other));
    }

    [Theory]
    [MemberData(nameof(PlainValues))]
    public void PlainValuesStoredWhole_AsOlderStoresHoldThem_ReadTheSame(object? value)
    {
        var whole = CliXmlPlain.Expand(CliXmlPlain.TryWrite(value)!);

        Assert.StartsWith(Head, whole, StringComparison.Ordinal);
        Assert.True(CliXmlPlain.TryRead(whole, out var back));
        Assert.Equal(value, back);
        Assert.Equal(value?.GetType(), back?.GetType());
    }

    [Fact]
    public void TryWrite_IsCompact() => Assert.Equal(["<I32>5</I32>", "<Nil />"], new object?[] { 5, null }.Select(CliXmlPlain.TryWrite));

    [Fact]
    public void TryRender_ShowsTheValueInvariantly() =>
        Assert.Equal(["2.5", "true", "web01"], new object[] { 2.5, true, "web01" }.Select(v => CliXmlPlain.TryRender(CliXmlPlain.TryWrite(v)!)));
}
