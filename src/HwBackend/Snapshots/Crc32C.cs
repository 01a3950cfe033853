using System.Buffers.Binary;
using System.Runtime.Intrinsics.X86;

namespace Actors.HwBackend.Snapshots;

/// <summary>
/// CRC-32C (Castagnoli), the snapshot's integrity check. Castagnoli rather than the zip polynomial
/// because x86 computes it in hardware (SSE4.2): a snapshot is checked twice during a migration's
/// downtime, and a 64 KiB console tail by table would cost about a hundred microseconds each time.
/// </summary>
internal static class Crc32C
{
    // The polynomial 0x1EDC6F41 bit-reversed, for the least-significant-bit-first form.
    private const uint ReflectedPolynomial = 0x82F6_3B78;

    private static readonly uint[] Table = BuildTable();

    public static uint Compute(ReadOnlySpan<byte> data) =>
        ~(Sse42.X64.IsSupported ? UpdateWithSse42(~0u, data) : UpdateWithTable(~0u, data));

    /// <summary>The portable form, for hosts without SSE4.2 (and to test the fast form against).</summary>
    internal static uint UpdateWithTable(uint crc, ReadOnlySpan<byte> data)
    {
        foreach (byte b in data)
            crc = Table[(byte)(crc ^ b)] ^ (crc >> 8);
        return crc;
    }

    internal static uint UpdateWithSse42(uint crc, ReadOnlySpan<byte> data)
    {
        ulong wide = crc;
        while (data.Length >= sizeof(ulong))
        {
            wide = Sse42.X64.Crc32(wide, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[sizeof(ulong)..];
        }
        uint narrow = (uint)wide;
        foreach (byte b in data)
            narrow = Sse42.Crc32(narrow, b);
        return narrow;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < table.Length; i++)
        {
            uint crc = i;
            for (int bit = 0; bit < 8; bit++)
                crc = (crc & 1) != 0 ? (crc >> 1) ^ ReflectedPolynomial : crc >> 1;
            table[i] = crc;
        }
        return table;
    }
}
