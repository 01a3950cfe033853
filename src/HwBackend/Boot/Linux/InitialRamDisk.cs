using System.IO.Compression;
using System.Text;

namespace Actors.HwBackend.Boot.Linux;

/// <summary>
/// Checks an initrd before the VM starts, so a wrong or cut-off file is a one-line error here
/// rather than a kernel panic ("VFS: Unable to mount root fs") a minute into the boot. The kernel
/// takes a newc cpio archive, plain or compressed; plain and gzip ones are read to their end
/// (the trailer entry, the gzip footer), the other compressions are recognised by their magic.
/// </summary>
internal static class InitialRamDisk
{
    private const string Trailer = "TRAILER!!!";
    private const int NewcHeaderLength = 110;

    private static readonly (string Name, byte[] Magic)[] OtherCompressions =
    [
        ("xz", [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]),
        ("zstd", [0x28, 0xB5, 0x2F, 0xFD]),
        ("lz4", [0x02, 0x21, 0x4C, 0x18]),
        ("bzip2", [0x42, 0x5A, 0x68]),
        ("lzma", [0x5D, 0x00, 0x00]),
        ("lzo", [0x89, 0x4C, 0x5A, 0x4F]),
    ];

    public static void Validate(ReadOnlySpan<byte> initrd)
    {
        if (initrd.IsEmpty)
            throw new GuestImageException("the initrd is empty");
        if (initrd.Length >= 2 && initrd[0] == 0x1F && initrd[1] == 0x8B)
        {
            ValidateCpio(Gunzip(initrd));
            return;
        }

        if (StartsWithCpioMagic(initrd))
        {
            ValidateCpio(initrd);
            return;
        }

        foreach ((string _, byte[] magic) in OtherCompressions)
        {
            if (initrd.StartsWith(magic))
                return;
        }

        throw new GuestImageException("not an initrd: neither a newc cpio archive nor a compressed one (gzip, xz, zstd, lz4, bzip2, lzma, lzo)");
    }

    private static byte[] Gunzip(ReadOnlySpan<byte> compressed)
    {
        try
        {
            using var input = new MemoryStream(compressed.ToArray(), writable: false);
            using var gzip = new GZipStream(input, CompressionMode.Decompress);
            using var output = new MemoryStream();
            gzip.CopyTo(output);
            return output.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new GuestImageException($"the gzip initrd is damaged or truncated: {e.Message}");
        }
    }

    /// <summary>"070701", or "070702" for the variant with checksums.</summary>
    private static bool StartsWithCpioMagic(ReadOnlySpan<byte> data) =>
        data.StartsWith("070701"u8) || data.StartsWith("070702"u8);

    /// <summary>Walks the newc entries to the trailer; the kernel would stop unpacking at the first bad one.</summary>
    private static void ValidateCpio(ReadOnlySpan<byte> archive)
    {
        int offset = 0;
        while (true)
        {
            if (archive.Length - offset < NewcHeaderLength || !StartsWithCpioMagic(archive[offset..]))
                throw new GuestImageException($"the initrd's cpio archive is damaged or truncated at byte {offset} (expected a newc header)");
            ReadOnlySpan<byte> header = archive.Slice(offset, NewcHeaderLength);
            long fileSize = HexField(header, 6);
            int nameSize = (int)HexField(header, 11);
            if (nameSize is < 1 or > 4096)
                throw new GuestImageException($"the initrd's cpio archive has a bad name length at byte {offset}");
            int nameStart = offset + NewcHeaderLength;
            long dataStart = Align4(nameStart + (long)nameSize);
            long next = Align4(dataStart + fileSize);
            if (dataStart + fileSize > archive.Length)
                throw new GuestImageException($"the initrd's cpio archive is truncated in the entry at byte {offset}");
            string name = Encoding.ASCII.GetString(archive.Slice(nameStart, nameSize - 1));
            if (name == Trailer)
                return;
            offset = (int)Math.Min(next, archive.Length);
        }
    }

    private static long HexField(ReadOnlySpan<byte> header, int index)
    {
        long value = 0;
        foreach (byte c in header.Slice(6 + (index * 8), 8))
        {
            int digit = c switch
            {
                >= (byte)'0' and <= (byte)'9' => c - '0',
                >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
                >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
                _ => throw new GuestImageException("the initrd's cpio archive has a header field that is not hexadecimal"),
            };
            value = (value << 4) | (uint)digit;
        }

        return value;
    }

    private static long Align4(long value) => (value + 3) & ~3L;
}
