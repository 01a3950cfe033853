using System.Runtime.InteropServices;

namespace Actors.HwBackend.Memory;

/// <summary>
/// Guest RAM as one page-aligned block of native memory. Page alignment lets the same block be
/// handed to KVM as a memory slot's userspace address; native memory keeps it out of the GC heap
/// so the software CPU can hold raw pointers into it.
/// </summary>
public sealed unsafe class GuestRam : IDisposable
{
    public const int PageSize = 4096;

    private byte* _host;

    public GuestRam(ulong sizeBytes)
    {
        if (sizeBytes == 0 || sizeBytes % PageSize != 0)
            throw new ArgumentOutOfRangeException(nameof(sizeBytes), $"guest RAM size must be a non-zero multiple of {PageSize} bytes");
        Size = sizeBytes;
        _host = (byte*)NativeMemory.AlignedAlloc((nuint)sizeBytes, PageSize);
        NativeMemory.Clear(_host, (nuint)sizeBytes);
    }

    public ulong Size { get; }

    public ulong PageCount => Size / PageSize;

    /// <summary>Host address of guest RAM offset 0; valid until disposal.</summary>
    public byte* HostPointer => _host != null ? _host : throw new ObjectDisposedException(nameof(GuestRam));

    public Span<byte> Span(ulong offset, int length)
    {
        if (offset > Size || (ulong)length > Size - offset)
            throw new ArgumentOutOfRangeException(nameof(offset), $"range 0x{offset:x}+{length} lies outside guest RAM of {Size} bytes");
        return new Span<byte>(HostPointer + offset, length);
    }

    public void Dispose()
    {
        if (_host != null)
        {
            NativeMemory.AlignedFree(_host);
            _host = null;
        }
    }
}
