namespace Actors.HwBackend.Boot;

/// <summary>How a guest image was recognised and therefore how it is entered.</summary>
public enum GuestImageFormat
{
    /// <summary>ELF32 with a Multiboot v1 header; loaded through its program headers, entered in 32-bit protected mode.</summary>
    MultibootElf32,

    /// <summary>Any file with a Multiboot v1 header that sets flag 16 (the "a.out kludge" address fields).</summary>
    MultibootAddressFields,

    /// <summary>ELF64 for x86-64; entered directly in 64-bit long mode at <c>e_entry</c>, whether or not it also has a Multiboot header.</summary>
    Elf64,

    /// <summary>A Linux/x86 bzImage (boot protocol 2.12 or later); entered at its 64-bit entry, <c>startup_64</c>.</summary>
    LinuxBzImage,
}
