using System.Buffers.Binary;

namespace Actors.HwBackend.Tests.Boot;

/// <summary>Builds small guest images byte by byte, so each test states exactly what the loader sees.</summary>
internal static class TestImages
{
    public const uint MultibootMagic = 0x1BAD_B002;
    public const uint AddressFieldsFlag = 1u << 16;

    public static byte[] MultibootHeader(uint flags, uint? checksum = null)
    {
        var header = new byte[12];
        BinaryPrimitives.WriteUInt32LittleEndian(header, MultibootMagic);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), flags);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), checksum ?? unchecked(0u - MultibootMagic - flags));
        return header;
    }

    public static byte[] MultibootAddressHeader(uint headerAddress, uint loadAddress, uint loadEndAddress, uint bssEndAddress, uint entryAddress, uint flags = AddressFieldsFlag)
    {
        var header = new byte[32];
        MultibootHeader(flags).CopyTo(header, 0);
        var fields = header.AsSpan(12);
        BinaryPrimitives.WriteUInt32LittleEndian(fields, headerAddress);
        BinaryPrimitives.WriteUInt32LittleEndian(fields[4..], loadAddress);
        BinaryPrimitives.WriteUInt32LittleEndian(fields[8..], loadEndAddress);
        BinaryPrimitives.WriteUInt32LittleEndian(fields[12..], bssEndAddress);
        BinaryPrimitives.WriteUInt32LittleEndian(fields[16..], entryAddress);
        return header;
    }

    /// <summary>
    /// A Multiboot kernel loaded through the address fields: the header sits at the start of
    /// <paramref name="text"/> (its first 32 bytes are overwritten), <paramref name="prefix"/>
    /// junk bytes precede it in the file and must not be loaded.
    /// </summary>
    public static byte[] AddressFieldsImage(byte[] text, uint loadAddress, uint bssBytes, uint entryOffset, int prefix = 0)
    {
        var file = new byte[prefix + text.Length];
        file.AsSpan(0, prefix).Fill(0xEE);
        text.CopyTo(file, prefix);
        uint loadEnd = loadAddress + (uint)text.Length;
        MultibootAddressHeader(loadAddress, loadAddress, loadEnd, bssBytes == 0 ? 0 : loadEnd + bssBytes, loadAddress + entryOffset).CopyTo(file, prefix);
        return file;
    }

    public static byte[] Elf32(uint entry, IReadOnlyList<TestSegment> segments, byte[]? multiboot = null, ushort machine = 3, ushort type = 2) =>
        Elf(is64: false, entry, segments, multiboot, machine, type);

    public static byte[] Elf64(ulong entry, IReadOnlyList<TestSegment> segments, byte[]? multiboot = null, ushort machine = 62, ushort type = 2) =>
        Elf(is64: true, entry, segments, multiboot, machine, type);

    /// <summary>Offset of the first program header, for tests that corrupt one.</summary>
    public static int ProgramHeaderOffset(bool is64) => is64 ? 64 : 52;

    private static byte[] Elf(bool is64, ulong entry, IReadOnlyList<TestSegment> segments, byte[]? multiboot, ushort machine, ushort type)
    {
        int headerSize = is64 ? 64 : 52;
        int entrySize = is64 ? 56 : 32;
        int offset = headerSize + (segments.Count * entrySize);
        int multibootOffset = (offset + 3) & ~3;
        offset = multibootOffset + (multiboot?.Length ?? 0);
        var dataOffsets = new int[segments.Count];
        for (int i = 0; i < segments.Count; i++)
        {
            offset = (offset + 15) & ~15;
            dataOffsets[i] = offset;
            offset += segments[i].Data.Length;
        }
        var file = new byte[offset];
        var span = file.AsSpan();
        span[0] = 0x7F;
        span[1] = (byte)'E';
        span[2] = (byte)'L';
        span[3] = (byte)'F';
        span[4] = is64 ? (byte)2 : (byte)1;
        span[5] = 1;
        span[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(span[16..], type);
        BinaryPrimitives.WriteUInt16LittleEndian(span[18..], machine);
        BinaryPrimitives.WriteUInt32LittleEndian(span[20..], 1);
        if (is64)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(span[24..], entry);
            BinaryPrimitives.WriteUInt64LittleEndian(span[32..], (ulong)headerSize);
            BinaryPrimitives.WriteUInt16LittleEndian(span[52..], (ushort)headerSize);
            BinaryPrimitives.WriteUInt16LittleEndian(span[54..], (ushort)entrySize);
            BinaryPrimitives.WriteUInt16LittleEndian(span[56..], (ushort)segments.Count);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(span[24..], (uint)entry);
            BinaryPrimitives.WriteUInt32LittleEndian(span[28..], (uint)headerSize);
            BinaryPrimitives.WriteUInt16LittleEndian(span[40..], (ushort)headerSize);
            BinaryPrimitives.WriteUInt16LittleEndian(span[42..], (ushort)entrySize);
            BinaryPrimitives.WriteUInt16LittleEndian(span[44..], (ushort)segments.Count);
        }
        for (int i = 0; i < segments.Count; i++)
        {
            var s = segments[i];
            var ph = span.Slice(headerSize + (i * entrySize), entrySize);
            BinaryPrimitives.WriteUInt32LittleEndian(ph, s.Type);
            if (is64)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(ph[4..], 7);
                BinaryPrimitives.WriteUInt64LittleEndian(ph[8..], (ulong)dataOffsets[i]);
                BinaryPrimitives.WriteUInt64LittleEndian(ph[16..], s.VirtualAddress);
                BinaryPrimitives.WriteUInt64LittleEndian(ph[24..], s.PhysicalAddress);
                BinaryPrimitives.WriteUInt64LittleEndian(ph[32..], (ulong)s.Data.Length);
                BinaryPrimitives.WriteUInt64LittleEndian(ph[40..], s.MemorySize);
                BinaryPrimitives.WriteUInt64LittleEndian(ph[48..], 16);
            }
            else
            {
                BinaryPrimitives.WriteUInt32LittleEndian(ph[4..], (uint)dataOffsets[i]);
                BinaryPrimitives.WriteUInt32LittleEndian(ph[8..], (uint)s.VirtualAddress);
                BinaryPrimitives.WriteUInt32LittleEndian(ph[12..], (uint)s.PhysicalAddress);
                BinaryPrimitives.WriteUInt32LittleEndian(ph[16..], (uint)s.Data.Length);
                BinaryPrimitives.WriteUInt32LittleEndian(ph[20..], (uint)s.MemorySize);
                BinaryPrimitives.WriteUInt32LittleEndian(ph[24..], 7);
                BinaryPrimitives.WriteUInt32LittleEndian(ph[28..], 16);
            }
            s.Data.CopyTo(span[dataOffsets[i]..]);
        }
        multiboot?.CopyTo(span[multibootOffset..]);
        return file;
    }
}
