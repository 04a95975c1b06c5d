using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;

namespace BatchOps.Engine.Store;

/// <summary>
/// Block values (framed inputs, keys, outcomes: see <see cref="ItemBlock"/>) compressed where it pays. The
/// items of a chunk repeat the same type names and property names item after item, so a block of objects
/// shrinks several times over. A packed value is <see cref="Marker"/>, the framed length (4 bytes,
/// little-endian), then Brotli; framed text never starts with that byte (a digit, <c>~</c> or <c>*</c>), so
/// values stored plain, by older stores or below <see cref="Threshold"/>, read as they are.
/// </summary>
internal static class BlockPacking
{
    /// <summary>The first byte of a packed value.</summary>
    public const byte Marker = 0x01;

    /// <summary>Values shorter than this (bytes) stay plain: a page holds them anyway.</summary>
    public const int Threshold = 512;

    /// <summary>Brotli quality: 1 compresses fastest, and a block's repeats are found at any quality.</summary>
    public const int Quality = 1;

    private const int Header = 5;

    // Brotli's window: 2^16 bytes reaches back across a whole block of small items.
    private const int Window = 16;

    /// <summary>
    /// The stored form of <paramref name="framed"/>: packed into <paramref name="packed"/> (cleared first), or
    /// <paramref name="framed"/> itself when it is short or would not shrink by an eighth.
    /// </summary>
    public static ReadOnlySpan<byte> Pack(ReadOnlySpan<byte> framed, ArrayBufferWriter<byte> packed)
    {
        if (framed.Length < Threshold)
        {
            return framed;
        }

        packed.ResetWrittenCount();
        var span = packed.GetSpan(Header + BrotliEncoder.GetMaxCompressedLength(framed.Length));
        if (!BrotliEncoder.TryCompress(framed, span[Header..], out var written, Quality, Window) || Header + written > framed.Length - (framed.Length / 8))
        {
            return framed;
        }

        span[0] = Marker;
        BinaryPrimitives.WriteInt32LittleEndian(span[1..], framed.Length);
        packed.Advance(Header + written);
        return packed.WrittenSpan;
    }

    /// <summary>Whether a stored value is packed.</summary>
    public static bool IsPacked(ReadOnlySpan<byte> stored) => !stored.IsEmpty && stored[0] == Marker;

    /// <summary>
    /// The framed text of a stored value: the value itself when plain, else unpacked into an array rented
    /// from the shared pool (returned through <paramref name="rented"/>; the caller gives it back).
    /// </summary>
    public static ReadOnlySpan<byte> Unpack(ReadOnlySpan<byte> stored, ref byte[]? rented)
    {
        if (!IsPacked(stored))
        {
            return stored;
        }

        var length = stored.Length >= Header ? BinaryPrimitives.ReadInt32LittleEndian(stored[1..]) : -1;
        if (length < 0)
        {
            throw Damaged();
        }

        rented = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
        if (!BrotliDecoder.TryDecompress(stored[Header..], rented, out var written) || written != length)
        {
            throw Damaged();
        }

        return rented.AsSpan(0, length);
    }

    private static StoreException Damaged() => new("A compressed item block does not unpack to the length it records; the store may be damaged.");
}
