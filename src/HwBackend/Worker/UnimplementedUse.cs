using Actors.HwBackend.Abstractions;

namespace Actors.HwBackend.Worker;

/// <summary>One unimplemented thing a VM's guest used: what, where it first did, and how often.</summary>
/// <param name="What">The port, physical address, MSR index, or the decoder's code of the instruction.</param>
/// <param name="FirstAddress">The guest's RIP the first time.</param>
public sealed record UnimplementedUse(UnimplementedKind Kind, ulong What, ulong FirstAddress, long Count)
{
    /// <summary>A one-line description, such as "MSR 0x1a0 written at 0xffffffff81001234, 3 times".</summary>
    public override string ToString() => $"{Subject} at 0x{FirstAddress:x}, {(Count == 1 ? "once" : $"{Count} times")}";

    /// <summary>What was used, without where or how often.</summary>
    public string Subject => Kind switch
    {
        UnimplementedKind.PortRead => $"port 0x{What:x} read",
        UnimplementedKind.PortWrite => $"port 0x{What:x} written",
        UnimplementedKind.MmioRead => $"physical address 0x{What:x} read",
        UnimplementedKind.MmioWrite => $"physical address 0x{What:x} written",
        UnimplementedKind.MsrRead => $"MSR 0x{What:x} read",
        UnimplementedKind.MsrWrite => $"MSR 0x{What:x} written",
        UnimplementedKind.Instruction => $"instruction {InstructionName(What)}",
        _ => $"{Kind} 0x{What:x}",
    };

    private static string InstructionName(ulong code) =>
        code <= int.MaxValue && Enum.IsDefined((Iced.Intel.Code)(int)code) ? ((Iced.Intel.Code)(int)code).ToString() : $"#{code}";
}
