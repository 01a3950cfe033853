using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Emulation.Tiers;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace Actors.HwBackend.Tests.Emulation;

/// <summary>
/// PUSH/POP r32, CALL rel32 and RET [imm16] in 32-bit code, which have an inline path for a 32-bit
/// stack (SS.B=1) and fall back to the general one for a 16-bit stack (SS.B=0), on both tiers.
/// </summary>
public sealed class Stack32Tests
{
    private const ulong Top = LongModeMachine.StackTop;

    /// <summary>
    /// push ebx; call f; hlt. f: pop eax; push eax; push esp; pop ecx; ret 4. PUSH ESP pushes ESP as it was
    /// before the push, and RET 4 drops the pushed EBX after the return address.
    /// </summary>
    [Theory]
    [MemberData(nameof(TestTiers.Both), MemberType = typeof(TestTiers))]
    public void Calls_pushes_and_pops_on_a_flat_32_bit_stack(CpuTier tier)
    {
        using var m = new LongModeMachine(tier: TestTiers.For(tier));
        var state = CompatibilityMode.Prepare(m, Program);
        state.Gprs[3] = 0xFFFF_FFFF_1234_5678; // the upper half is not pushed
        m.Vp.SetState(state);

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        var s = m.Vp.GetState();
        Assert.Equal(Top, s.Gprs[4]);
        Assert.Equal(ReturnAddress, s.Gprs[0]);
        Assert.Equal(Top - 8, s.Gprs[1]);
        Assert.Equal(0x1234_5678u, m.Machine.Memory.ReadValue<uint>(Top - 4));
        Assert.Equal((uint)ReturnAddress, m.Machine.Memory.ReadValue<uint>(Top - 8));
    }

    /// <summary>
    /// The same program with SS.B=0 and ESP = 0x0001_0004: SP wraps inside 64 KiB (the return address lands
    /// at 0xFFFC) and the upper half of ESP stays.
    /// </summary>
    [Theory]
    [MemberData(nameof(TestTiers.Both), MemberType = typeof(TestTiers))]
    public void Calls_pushes_and_pops_on_a_16_bit_stack_wrap_SP(CpuTier tier)
    {
        using var m = new LongModeMachine(tier: TestTiers.For(tier));
        var state = CompatibilityMode.Prepare(m, Program);
        state.Gprs[3] = 0x1234_5678;
        state.Gprs[4] = 0x0001_0004;
        state.Ss = state.Ss with { DefaultBig = false };
        m.Vp.SetState(state);

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        var s = m.Vp.GetState();
        Assert.Equal(0x0001_0004UL, s.Gprs[4]);
        Assert.Equal(ReturnAddress, s.Gprs[0]);
        Assert.Equal(0x0001_FFFCUL, s.Gprs[1]); // PUSH ESP pushed 32 bits: the upper half as it stood
        Assert.Equal(0x1234_5678u, m.Machine.Memory.ReadValue<uint>(0x0));
        Assert.Equal((uint)ReturnAddress, m.Machine.Memory.ReadValue<uint>(0xFFFC));
    }

    /// <summary>POP ESP ends with the popped value, not the incremented one.</summary>
    [Theory]
    [MemberData(nameof(TestTiers.Both), MemberType = typeof(TestTiers))]
    public void Pop_esp_loads_the_popped_value(CpuTier tier)
    {
        using var m = new LongModeMachine(tier: TestTiers.For(tier));
        var state = CompatibilityMode.Prepare(m, a =>
        {
            a.push(0x7000);
            a.pop(esp);
            a.hlt();
        });
        m.Vp.SetState(state);

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);
        Assert.Equal(0x7000UL, m.Vp.GetState().Gprs[4]);
    }

    // push ebx (1 byte), call rel32 (5): the return address is the HLT at CodeBase + 6.
    private const ulong ReturnAddress = LongModeMachine.CodeBase + 6;

    private static void Program(Iced.Intel.Assembler a)
    {
        var f = a.CreateLabel();
        a.push(ebx);
        a.call(f);
        a.hlt();
        a.Label(ref f);
        a.pop(eax);
        a.push(eax);
        a.push(esp);
        a.pop(ecx);
        a.ret(4);
    }
}
