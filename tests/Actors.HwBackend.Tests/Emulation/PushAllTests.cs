using Actors.HwBackend.Abstractions;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace Actors.HwBackend.Tests.Emulation;

/// <summary>
/// PUSHA/PUSHAD push AX, CX, DX, BX, the original SP, BP, SI, DI; POPA/POPAD pop them back in reverse,
/// discarding the SP slot (SDM vol. 2). A page fault on any slot leaves registers and memory untouched.
/// Both are invalid in 64-bit mode.
/// </summary>
public sealed class PushAllTests
{
    private const ulong Top = LongModeMachine.StackTop;
    private static readonly ulong[] Values = [0x1111_1111, 0x2222_2222, 0x3333_3333, 0x4444_4444, Top, 0x6666_6666, 0x7777_7777, 0x8888_8888];

    [Fact]
    public void Pushad_pushes_the_eight_registers_with_the_original_ESP()
    {
        using var m = new LongModeMachine();
        var state = CompatibilityMode.Prepare(m, a => { a.pushad(); a.hlt(); });
        for (int r = 0; r < 8; r++) state.Gprs[r] = Values[r];
        m.Vp.SetState(state);

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        Assert.Equal(Top - 32, m.Vp.GetState().Gprs[4]);
        for (int r = 0; r < 8; r++) // EAX at ESP-4 down to EDI at ESP-32
            Assert.Equal((uint)Values[r], m.Machine.Memory.ReadValue<uint>(Top - 4 * (ulong)(r + 1)));
    }

    [Fact]
    public void Popad_restores_the_registers_and_skips_the_ESP_slot()
    {
        using var m = new LongModeMachine();
        var state = CompatibilityMode.Prepare(m, a => { a.popad(); a.hlt(); });
        for (int r = 0; r < 8; r++) m.Machine.Memory.WriteValue(Top - 4 * (ulong)(r + 1), (uint)Values[r]);
        m.Machine.Memory.WriteValue(Top - 20, 0xDEAD_BEEFu); // the ESP slot: ignored
        state.Gprs[4] = Top - 32;
        m.Vp.SetState(state);

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        var s = m.Vp.GetState();
        Assert.Equal(Top, s.Gprs[4]);
        foreach (int r in new[] { 0, 1, 2, 3, 5, 6, 7 }) Assert.Equal(Values[r], s.Gprs[r]);
    }

    [Fact]
    public void Pusha_and_popa_with_a_16_bit_operand_move_words_and_keep_the_upper_halves()
    {
        using var m = new LongModeMachine();
        var state = CompatibilityMode.Prepare(m, a =>
        {
            a.db(0x66, 0x60); // pusha (16-bit operand)
            a.mov(eax, 0xAAAA_0000); // change the upper halves and clear the low words
            a.mov(ebx, 0xBBBB_0000);
            a.mov(edi, 0xDDDD_0000);
            a.db(0x66, 0x61); // popa (16-bit operand)
            a.hlt();
        });
        const ulong esp = 0x7_FFF0;
        for (int r = 0; r < 8; r++) state.Gprs[r] = Values[r];
        state.Gprs[4] = esp;
        m.Vp.SetState(state);

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        var s = m.Vp.GetState();
        Assert.Equal((ushort)0x1111, m.Machine.Memory.ReadValue<ushort>(esp - 2)); // AX first
        Assert.Equal((ushort)0xFFF0, m.Machine.Memory.ReadValue<ushort>(esp - 10)); // the original SP, fifth
        Assert.Equal((ushort)0x8888, m.Machine.Memory.ReadValue<ushort>(esp - 16)); // DI last
        Assert.Equal(esp, s.Gprs[4]);
        Assert.Equal(0xAAAA_1111UL, s.Gprs[0]);
        Assert.Equal(0xBBBB_4444UL, s.Gprs[3]);
        Assert.Equal(0xDDDD_8888UL, s.Gprs[7]);
        Assert.Equal(0x2222_2222UL, s.Gprs[1]);
    }

    /// <summary>With SS.B=0 the pushes use SP and wrap inside 64 KiB; ESP's upper half stays.</summary>
    [Fact]
    public void Pusha_on_a_16_bit_stack_wraps_SP_and_keeps_the_upper_half_of_ESP()
    {
        using var m = new LongModeMachine();
        var state = CompatibilityMode.Prepare(m, a => { a.db(0x66, 0x60); a.hlt(); });
        for (int r = 0; r < 8; r++) state.Gprs[r] = Values[r];
        state.Gprs[4] = 0x0001_0004;
        state.Ss = state.Ss with { DefaultBig = false };
        m.Vp.SetState(state);

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        var mem = m.Machine.Memory;
        Assert.Equal(0x0001_FFF4UL, m.Vp.GetState().Gprs[4]);
        Assert.Equal((ushort)0x1111, mem.ReadValue<ushort>(0x2UL)); // AX at SP-2 = 2
        Assert.Equal((ushort)0x2222, mem.ReadValue<ushort>(0x0UL)); // CX at 0
        Assert.Equal((ushort)0x3333, mem.ReadValue<ushort>(0xFFFEUL)); // DX wrapped to FFFE
        Assert.Equal((ushort)0x0004, mem.ReadValue<ushort>(0xFFFAUL)); // the original SP
        Assert.Equal((ushort)0x8888, mem.ReadValue<ushort>(0xFFF4UL)); // DI
    }

    /// <summary>
    /// ESP = 0x400010 and 2..4 MiB unmapped: the first four slots are writable, the fifth (0x3FFFFC) faults.
    /// #PF with error code 2 (write, not present), CR2 = 0x3FFFFC; nothing written, ESP unchanged.
    /// The handler runs on IST1 since the interrupted stack is unusable.
    /// </summary>
    [Fact]
    public void Pushad_fault_on_a_later_slot_leaves_memory_and_ESP_unchanged()
    {
        using var m = new LongModeMachine();
        UnmapSecondTwoMiB(m);
        var state = CompatibilityMode.Prepare(m, a => { a.pushad(); a.hlt(); });
        for (int r = 0; r < 8; r++) state.Gprs[r] = Values[r];
        state.Gprs[4] = 0x40_0010;
        m.Machine.Memory.WriteValue(0x24UL, 0x90000UL); // TSS (base 0) IST1
        LoadPageFaultHandler(m, ist: 1);
        m.Vp.SetState(state);

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        var s = m.Vp.GetState();
        Assert.Equal(14UL, s.Gprs[7]);
        Assert.Equal(2UL, s.Gprs[3]);
        Assert.Equal(0x3F_FFFCUL, s.Gprs[2]);
        Assert.Equal(0x40_0010UL, s.Gprs[6]); // ESP in the interrupt frame
        Assert.Equal(0UL, m.Machine.Memory.ReadValue<ulong>(0x40_0008));
        Assert.Equal(0UL, m.Machine.Memory.ReadValue<ulong>(0x40_0000));
    }

    /// <summary>ESP = 0x1FFFF0: the slots from 0x200000 up are unmapped; #PF(0) at CR2 0x200000, no register changed.</summary>
    [Fact]
    public void Popad_fault_on_a_later_slot_leaves_the_registers_unchanged()
    {
        using var m = new LongModeMachine();
        UnmapSecondTwoMiB(m);
        var state = CompatibilityMode.Prepare(m, a => { a.popad(); a.hlt(); });
        for (int r = 0; r < 8; r++) state.Gprs[r] = Values[r];
        state.Gprs[4] = 0x1F_FFF0;
        for (ulong o = 0; o < 16; o += 4) m.Machine.Memory.WriteValue(0x1F_FFF0 + o, 0xEEEE_EEEEu);
        LoadPageFaultHandler(m, ist: 0);
        m.Vp.SetState(state);

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        var s = m.Vp.GetState();
        Assert.Equal(14UL, s.Gprs[7]);
        Assert.Equal(0UL, s.Gprs[3]);
        Assert.Equal(0x20_0000UL, s.Gprs[2]);
        Assert.Equal(0x1F_FFF0UL, s.Gprs[6]);
        Assert.Equal(Values[0], s.Gprs[0]);
        Assert.Equal(Values[1], s.Gprs[1]);
        Assert.Equal(Values[5], s.Gprs[5]);
    }

    [Theory]
    [InlineData(new byte[] { 0x60 })] // pusha
    [InlineData(new byte[] { 0x61 })] // popa
    [InlineData(new byte[] { 0x66, 0x60 })]
    public void Pusha_and_popa_are_invalid_in_64_bit_mode(byte[] code) => DecimalAdjustTests.AssertUndefinedIn64BitMode(code);

    /// <summary>Clears the 2 MiB page directory entry for 2..4 MiB of the identity map.</summary>
    private static void UnmapSecondTwoMiB(LongModeMachine m) =>
        m.Machine.Memory.WriteValue(LongModeMachine.TablesBase + 2 * 4096 + 8, 0UL);

    /// <summary>#PF handler (64-bit): RBX = error code, RDX = CR2, RSI = the interrupted RSP, RDI = 14.</summary>
    private static void LoadPageFaultHandler(LongModeMachine m, int ist)
    {
        m.Load(LongModeMachine.HandlerBase, a =>
        {
            a.pop(rbx);
            a.mov(rdx, cr2);
            a.mov(rsi, __qword_ptr[rsp + 24]);
            a.mov(edi, 14);
            a.hlt();
        });
        m.SetGate(14, LongModeMachine.HandlerBase, ist);
    }
}
