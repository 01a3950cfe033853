using System.Reflection;
using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Emulation;
using Actors.HwBackend.Emulation.Handlers;
using Actors.HwBackend.Emulation.Tiers;
using Iced.Intel;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace Actors.HwBackend.Tests.Emulation;

/// <summary>
/// What the translating tier must keep exactly as the interpreter has it: code that rewrites itself or is
/// rewritten by another vCPU, faults in the middle of a translated block with the registers and flags of
/// the instructions before them, and events that reach a vCPU looping inside translated code. Each runs on
/// both tiers; on the translator every block is translated before it first runs.
/// </summary>
public sealed class TranslatorTests
{
    private const ulong Data = 0x50000;

    private static LongModeMachine Machine(CpuTier tier, int processors = 1) =>
        new(processors: processors, tier: TestTiers.For(tier));

    private static ulong TranslatedRegions(LongModeMachine m) => (ulong)((EmulatedMachine)m.Machine).TierStatistics!.RegionsTranslated;

    [Theory]
    [MemberData(nameof(TestTiers.Both), MemberType = typeof(TestTiers))]
    public void Code_that_rewrites_a_later_instruction_of_its_own_block_runs_the_new_instruction(CpuTier tier)
    {
        using var m = Machine(tier);
        // The loop runs twice: first as written, then after its store has patched the immediate of the
        // MOV right after it (in the same block) from 1 to 0x77. RBX adds up what the MOV loaded.
        ulong[] at = m.LoadLabelled(64, LongModeMachine.CodeBase, a =>
        {
            Label loop = a.CreateLabel(), patched = a.CreateLabel();
            a.mov(ecx, 2);
            a.Label(ref loop);
            a.lea(rdi, __[patched]);
            a.mov(__byte_ptr[rdi + 1], 0x77); // the imm32 of "mov eax, imm32" starts one byte in
            a.Label(ref patched);
            a.mov(eax, 1);
            a.add(rbx, rax);
            a.dec(ecx);
            a.jne(loop);
            a.hlt();
            return [patched];
        });
        m.Vp.SetState(m.InitialState());

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);

        // The first store lands before the first run of the MOV, so both runs load 0x77.
        Assert.Equal(2 * 0x77UL, m.Vp.GetState().Gprs[3]);
        Assert.NotEqual(0UL, at[0]);
        if (tier == CpuTier.Translator)
            Assert.True(TranslatedRegions(m) > 0);
    }

    [Theory]
    [MemberData(nameof(TestTiers.Both), MemberType = typeof(TestTiers))]
    public void Code_that_rewrites_the_block_it_branches_to_runs_the_new_block(CpuTier tier)
    {
        using var m = Machine(tier);
        // A translated loop calls a target block many times, then overwrites the target's first
        // instruction ("add rbx, 1" becomes "add rbx, 100" by patching its imm8) and calls it once more.
        m.LoadLabelled(64, LongModeMachine.CodeBase, a =>
        {
            Label loop = a.CreateLabel(), target = a.CreateLabel(), done = a.CreateLabel();
            a.mov(ecx, 50);
            a.Label(ref loop);
            a.call(target);
            a.dec(ecx);
            a.jne(loop);
            a.lea(rdi, __[target]);
            a.mov(__byte_ptr[rdi + 3], 100); // add rbx, imm8: 48 83 C3 ib
            a.call(target);
            a.jmp(done);
            a.Label(ref target);
            a.add(rbx, 1);
            a.ret();
            a.Label(ref done);
            a.hlt();
            return [target];
        });
        m.Vp.SetState(m.InitialState());

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);

        Assert.Equal(50UL + 100, m.Vp.GetState().Gprs[3]);
    }

    [Theory]
    [MemberData(nameof(TestTiers.Both), MemberType = typeof(TestTiers))]
    public void A_callee_on_another_page_runs_its_new_code_once_the_caller_rewrites_it(CpuTier tier)
    {
        using var m = Machine(tier);
        // The callee is on another page, so it is a region of its own, entered from the caller's region
        // through the run loop. Before the last call the loop rewrites the callee ("add rbx, 1" becomes
        // "add rbx, 100"); the same CALL must then run the new code.
        const ulong callee = LongModeMachine.CodeBase + 0x2000;
        m.Load(64, callee, a =>
        {
            a.add(rbx, 1);
            a.ret();
        });
        m.Load(64, LongModeMachine.CodeBase, a =>
        {
            Label loop = a.CreateLabel(), call = a.CreateLabel();
            a.mov(ecx, 50);
            a.mov(rdi, callee);
            a.Label(ref loop);
            a.cmp(ecx, 1);
            a.jne(call);
            a.mov(__byte_ptr[rdi + 3], 100); // add rbx, imm8: 48 83 C3 ib
            a.Label(ref call);
            a.mov(rax, callee);
            a.call(rax);
            a.dec(ecx);
            a.jne(loop);
            a.hlt();
        });
        m.Vp.SetState(m.InitialState());

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);

        Assert.Equal(49UL + 100, m.Vp.GetState().Gprs[3]);
    }

    [Theory]
    [MemberData(nameof(TestTiers.Both), MemberType = typeof(TestTiers))]
    public void Page_fault_in_the_middle_of_a_block_leaves_the_instructions_before_it_done_and_the_rest_undone(CpuTier tier)
    {
        using var m = Machine(tier);
        ulong unmapped = 0x0000_7000_0000_0000;
        ulong[] at = m.LoadLabelled(64, LongModeMachine.CodeBase, a =>
        {
            Label faulting = a.CreateLabel();
            a.mov(rax, 0x10);
            a.mov(rsi, unmapped);
            a.sub(rax, 0x10); // ZF = 1: the flags the fault handler must see
            a.Label(ref faulting);
            a.mov(rcx, __qword_ptr[rsi]);
            a.mov(rdx, 0x5A5A); // never runs
            a.add(rax, 1); // never runs; would clear ZF
            a.hlt();
            return [faulting];
        });
        m.Load(LongModeMachine.HandlerBase, a =>
        {
            a.pop(rbx); // error code
            a.mov(rdi, __qword_ptr[rsp]); // saved RIP
            a.mov(r8, __qword_ptr[rsp + 16]); // saved RFLAGS
            a.hlt();
        });
        m.SetGate(14, LongModeMachine.HandlerBase);
        m.Vp.SetState(m.InitialState());

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);

        var s = m.Vp.GetState();
        Assert.Equal(at[0], s.Gprs[7]);
        Assert.Equal(0UL, s.Gprs[0]);
        Assert.Equal(0UL, s.Gprs[2]);
        Assert.Equal(0x40UL, s.Gprs[8] & 0x40); // ZF from the SUB
    }

    [Theory]
    [MemberData(nameof(TestTiers.Both), MemberType = typeof(TestTiers))]
    public void Divide_error_and_general_protection_fault_mid_block_report_the_faulting_instruction(CpuTier tier)
    {
        using var m = Machine(tier);
        ulong[] at = m.LoadLabelled(64, LongModeMachine.CodeBase, a =>
        {
            Label divide = a.CreateLabel(), general = a.CreateLabel();
            a.mov(r12, 0);
            a.xor(edx, edx);
            a.mov(eax, 7);
            a.mov(ecx, 0);
            a.Label(ref divide);
            a.div(ecx);
            a.mov(r13, 1); // after the #DE handler returns past the DIV
            a.mov(rsi, 0x8000_0000_0000_0000); // not canonical
            a.Label(ref general);
            a.mov(rax, __qword_ptr[rsi]);
            a.hlt();
            return [divide, general];
        });
        m.Load(LongModeMachine.HandlerBase, a =>
        {
            // #DE: note where, skip the 2-byte DIV and return.
            a.mov(r14, __qword_ptr[rsp]);
            a.add(__qword_ptr[rsp], 2);
            a.iretq();
        });
        m.Load(LongModeMachine.HandlerBase + 0x100, a =>
        {
            a.pop(rbx); // error code
            a.mov(r15, __qword_ptr[rsp]);
            a.hlt();
        });
        m.SetGate(0, LongModeMachine.HandlerBase);
        m.SetGate(13, LongModeMachine.HandlerBase + 0x100);
        m.Vp.SetState(m.InitialState());

        Assert.Equal(VpExitReason.Halt, m.Run().Reason);

        var s = m.Vp.GetState();
        Assert.Equal(at[0], s.Gprs[14]);
        Assert.Equal(1UL, s.Gprs[13]);
        Assert.Equal(at[1], s.Gprs[15]);
        Assert.Equal(7UL, s.Gprs[0]); // the faulting load did not write RAX
    }

    [Theory]
    [MemberData(nameof(TestTiers.Both), MemberType = typeof(TestTiers))]
    public void An_interrupt_reaches_a_vcpu_looping_in_translated_code(CpuTier tier)
    {
        using var m = Machine(tier);
        m.Load(LongModeMachine.CodeBase, a =>
        {
            Label loop = a.CreateLabel();
            a.sti();
            a.Label(ref loop);
            a.inc(rax);
            a.jmp(loop);
        });
        m.Load(LongModeMachine.HandlerBase, a =>
        {
            a.mov(rbx, 0x1234);
            a.hlt();
        });
        m.SetGate(0x40, LongModeMachine.HandlerBase);
        m.Vp.SetState(m.InitialState());

        using var inject = new Timer(_ => m.Vp.InjectExternalInterrupt(0x40), null, 100, Timeout.Infinite);
        VpExit exit = RunBounded(m.Vp);

        Assert.Equal(VpExitReason.Halt, exit.Reason);
        var s = m.Vp.GetState();
        Assert.Equal(0x1234UL, s.Gprs[3]);
        Assert.True(s.Gprs[0] > 0);
    }

    [Theory]
    [MemberData(nameof(TestTiers.Both), MemberType = typeof(TestTiers))]
    public void A_stop_request_reaches_a_vcpu_looping_in_translated_code(CpuTier tier)
    {
        using var m = Machine(tier);
        m.Load(LongModeMachine.CodeBase, a =>
        {
            Label loop = a.CreateLabel();
            a.Label(ref loop);
            a.add(rax, 3);
            a.jmp(loop);
        });
        m.Vp.SetState(m.InitialState());

        using var stop = new Timer(_ => m.Vp.RequestStop(), null, 100, Timeout.Infinite);
        VpExit exit = RunBounded(m.Vp);

        Assert.Equal(VpExitReason.StopRequested, exit.Reason);
        Assert.Equal(0UL, m.Vp.GetState().Gprs[0] % 3); // stopped between instructions, never inside one
    }

    [Theory]
    [MemberData(nameof(TestTiers.Both), MemberType = typeof(TestTiers))]
    public async Task Code_rewritten_by_another_vcpu_is_picked_up_by_the_vcpu_looping_in_it(CpuTier tier)
    {
        using var m = Machine(tier, processors: 2);
        // vCPU 1 counts in a tight loop; vCPU 0 waits until it has counted, then turns the loop's
        // backward jump into a jump to a HLT (by rewriting its rel8).
        ulong[] at = m.LoadLabelled(64, LongModeMachine.CodeBase + 0x1000, a =>
        {
            Label loop = a.CreateLabel(), jump = a.CreateLabel(), stop = a.CreateLabel();
            a.Label(ref loop);
            a.inc(rax);
            a.mov(__qword_ptr[Data], rax);
            a.Label(ref jump);
            a.jmp(loop);
            a.Label(ref stop);
            a.mov(rbx, 0xD0E);
            a.hlt();
            return [jump, stop];
        });
        sbyte toStop = (sbyte)(long)(at[1] - (at[0] + 2));
        m.Load(LongModeMachine.CodeBase, a =>
        {
            Label wait = a.CreateLabel();
            a.Label(ref wait);
            a.cmp(__qword_ptr[Data], 1000);
            a.jb(wait);
            a.mov(__byte_ptr[at[0] + 1], (byte)toStop);
            a.hlt();
        });
        IVirtualProcessor looping = m.Machine.Processors[1];
        m.Vp.SetState(m.InitialState());
        VpState loopingState = m.InitialState(LongModeMachine.CodeBase + 0x1000);
        loopingState.Gprs[4] = LongModeMachine.StackTop - 0x1000;
        looping.SetState(loopingState);

        var loopThread = Task.Run(() => RunBounded(looping));
        Assert.Equal(VpExitReason.Halt, RunBounded(m.Vp).Reason);
        Assert.Equal(VpExitReason.Halt, (await loopThread).Reason);

        var s = looping.GetState();
        Assert.Equal(0xD0EUL, s.Gprs[3]);
        Assert.True(s.Gprs[0] >= 1000);
    }

    [Fact]
    public unsafe void The_translator_finds_the_template_behind_a_decoded_handler_pointer()
    {
        // The decoder stores handler pointers taken with &; the translator maps them back to methods through
        // reflection: both must give the same pointer, or no template would ever be used.
        var handler = HandlerMethods.Find(&AluHandlers.RR<Size32, AddOp>);

        Assert.NotNull(handler);
        OpTemplates.Template? template = OpTemplates.For(handler);
        Assert.NotNull(template);
        Assert.Equal(FlagEffect.WritesAll, template.Flags);
        Assert.Equal(FlagEffect.Reads, OpTemplates.For(HandlerMethods.Find(&AluHandlers.RR<Size32, AdcOp>)!)!.Flags);
        Assert.Null(OpTemplates.For(HandlerMethods.Find(&StringHandlers.Execute)!));
    }

    /// <summary>
    /// The decoder takes the pointers of per-condition handlers inside generic helpers; each must still map
    /// back to its template, or JNE, SETcc and CMOVcc would silently be called through their pointers.
    /// </summary>
    [Fact]
    public unsafe void Per_condition_handlers_the_decoder_picks_have_templates()
    {
        var a = new Assembler(64);
        a.jne(a.@F);
        a.AnonymousLabel();
        a.setg(bl);
        a.cmovb(eax, ecx);
        a.cmovle(rax, __qword_ptr[rdi]);
        var code = new MemoryStream();
        a.Assemble(new StreamCodeWriter(code), 0);
        var decoder = Decoder.Create(64, new ByteArrayCodeReader(code.ToArray()));
        Op op;
        while (decoder.IP < (ulong)code.Length)
        {
            decoder.Decode(out Instruction ins);
            Translator.Translate(in ins, &op, 64);
            MethodInfo? handler = HandlerMethods.Find(op.Fn);
            Assert.True(handler != null, $"{ins}: the decoder's handler pointer maps to no method");
            Assert.True(OpTemplates.For(handler) != null, $"{ins}: {handler.Name} has no template");
        }
    }

    /// <summary>Runs until an exit that is not a request to stop for nothing; a vCPU that never exits fails the test instead of hanging it.</summary>
    private static VpExit RunBounded(IVirtualProcessor vp)
    {
        using var watchdog = new Timer(_ => vp.RequestStop(), null, TimeSpan.FromSeconds(30), Timeout.InfiniteTimeSpan);
        return vp.Run();
    }
}
