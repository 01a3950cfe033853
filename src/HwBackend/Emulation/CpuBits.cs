namespace Actors.HwBackend.Emulation;

internal static class Cr0Bits
{
    public const ulong PE = 1, MP = 2, EM = 4, TS = 8, ET = 0x10, NE = 0x20, WP = 0x1_0000, AM = 0x4_0000,
        NW = 0x2000_0000, CD = 0x4000_0000, PG = 0x8000_0000;
}

internal static class Cr4Bits
{
    public const ulong VME = 1, PVI = 2, TSD = 4, DE = 8, PSE = 0x10, PAE = 0x20, MCE = 0x40, PGE = 0x80,
        PCE = 0x100, OSFXSR = 0x200, OSXMMEXCPT = 0x400, UMIP = 0x800, FSGSBASE = 0x1_0000, PCIDE = 0x2_0000;

    /// <summary>The CR4 bits this CPU implements; setting any other bit is a #GP.</summary>
    public const ulong Supported = VME | PVI | TSD | DE | PSE | PAE | MCE | PGE | PCE | OSFXSR | OSXMMEXCPT | FSGSBASE;
}

internal static class EferBits
{
    public const ulong SCE = 1, LME = 0x100, LMA = 0x400, NXE = 0x800;
    public const ulong Supported = SCE | LME | LMA | NXE;
}

internal static class RflagsBits
{
    public const ulong CF = 1, Reserved1 = 2, PF = 4, AF = 0x10, ZF = 0x40, SF = 0x80, TF = 0x100, IF = 0x200,
        DF = 0x400, OF = 0x800, IOPL = 0x3000, NT = 0x4000, RF = 0x1_0000, VM = 0x2_0000, AC = 0x4_0000,
        VIF = 0x8_0000, VIP = 0x10_0000, ID = 0x20_0000;

    public const ulong Arithmetic = CF | PF | AF | ZF | SF | OF;

    /// <summary>Bits software can change with POPF/IRET at CPL 0 (VM, VIF, VIP stay clear: no virtual-8086 mode).</summary>
    public const ulong Writable = Arithmetic | TF | IF | DF | IOPL | NT | RF | AC | ID;
}
