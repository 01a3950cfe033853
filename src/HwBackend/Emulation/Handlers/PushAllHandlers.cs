namespace Actors.HwBackend.Emulation.Handlers;

/// <summary>
/// PUSHA/PUSHAD and POPA/POPAD (legacy and compatibility mode only: the opcodes are invalid in 64-bit
/// mode and Iced decodes them as such). OpSize is 2 or 4. Both touch eight stack slots; every slot is
/// checked (PUSHA) or read (POPA) before any register or RSP changes, so a #PF leaves the state as it was.
/// </summary>
internal static unsafe class PushAllHandlers
{
    private const int Slots = 8;

    /// <summary>Pushes AX, CX, DX, BX, the original SP, BP, SI, DI: register numbers 0..7 in order.</summary>
    public static int Pusha(Cpu c, Op* op)
    {
        int size = op->OpSize;
        for (int i = 0; i < Slots; i++) c.ProbeWrite(c.StackSlotAddress(-(i + 1) * size), size);
        // RSP is only moved at the end, so slot 4 gets the SP the instruction started with.
        for (int i = 0; i < Slots; i++) c.WriteSized(c.StackSlotAddress(-(i + 1) * size), size, c.ReadReg(i, size));
        c.AdjustStack(-Slots * size);
        return Handler.AfterWrite(c, op);
    }

    /// <summary>Pops DI, SI, BP, (SP discarded), BX, DX, CX, AX: the lowest slot holds register 7.</summary>
    public static int Popa(Cpu c, Op* op)
    {
        int size = op->OpSize;
        Span<ulong> values = stackalloc ulong[Slots];
        for (int i = 0; i < Slots; i++) values[i] = c.ReadSized(c.StackSlotAddress(i * size), size);
        for (int i = 0; i < Slots; i++)
        {
            int reg = Slots - 1 - i;
            if (reg != Cpu.RSP) c.WriteReg(reg, size, values[i]);
        }
        c.AdjustStack(Slots * size);
        return Handler.Continue;
    }
}
