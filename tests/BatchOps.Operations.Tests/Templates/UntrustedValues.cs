using System.Text;
using FsCheck;
using FsCheck.Fluent;

namespace BatchOps.Operations.Tests.Templates;

/// <summary>
/// Generated item values for the template properties: any Unicode scalar values (non-BMP included), weighted
/// towards the characters that are structure somewhere: / ? # &amp; = % + ; , : @ CR LF NUL " \ { } . and spaces,
/// and now and then a whole "." or "..".
/// </summary>
internal static class UntrustedValues
{
    private static readonly string[] Structural = ["/", "?", "#", "&", "=", "%", "+", ";", ",", ":", "@", "\r", "\n", "\r\n", "\0", "\"", "\\", "{", "}", "{x}", ".", "..", " ", "\t", "%2F", "%00", "'", "<", ">", "[", "]", "$", "`", "\u001b[2J"];

    public static Arbitrary<string> Any { get; } = Arb.From(Gen.Frequency(
        (10, Pieces().ArrayOf().Select(parts => string.Concat(parts))),
        (1, Gen.Elements(".", "..", string.Empty))));

    private static Gen<string> Pieces() => Gen.Frequency(
        (4, Gen.Elements(Structural)),
        (3, Gen.Choose('a', 'z').Select(c => ((char)c).ToString())),
        (2, Gen.Choose(0x20, 0x7E).Select(c => ((char)c).ToString())),
        (2, Gen.Choose(0x00, 0xD7FF).Select(Scalar)),
        (1, Gen.Choose(0xE000, 0xFFFD).Select(Scalar)),
        (2, Gen.Choose(0x10000, 0x10FFFF).Select(Scalar)));

    private static string Scalar(int value) => new Rune(value).ToString();
}
