namespace Actors.HwBackend.Tests.Boot;

/// <summary>One program header for <see cref="TestImages"/>; <see cref="MemorySize"/> beyond the data is bss.</summary>
internal sealed record TestSegment(ulong PhysicalAddress, byte[] Data, ulong MemorySize, ulong? Virtual = null, uint Type = 1)
{
    public ulong VirtualAddress => Virtual ?? PhysicalAddress;

    public static TestSegment Code(ulong address, int length, ulong bss = 0, ulong? virtualAddress = null)
    {
        var data = new byte[length];
        for (int i = 0; i < length; i++)
            data[i] = (byte)(0x40 + (i * 7));
        return new TestSegment(address, data, (ulong)length + bss, virtualAddress);
    }
}
