using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Actors.HwBackend.Tests.Emulation;

/// <summary>
/// 64-bit handlers for a <see cref="LongModeMachine"/> that append what each event shows to one log
/// in guest memory: the vector, the pushed RIP, CS, RFLAGS, SS, the interrupted RCX, and DR6 and
/// DR7 as the handler finds them. A handler then clears DR6 (which reads back as its fixed bits,
/// 0xFFFF0FF0), and from the <c>resumeAfter</c>-th logged event on sets RF and clears TF in the
/// RFLAGS image before IRETQ. Only for vectors without an error code.
/// </summary>
internal static class InterruptFrameLog
{
    public const ulong CountAddress = 0x9_0000, LogBase = 0x9_0100;
    public const ulong Dr6Fixed = 0xFFFF_0FF0, Dr6SingleStep = 1UL << 14, Dr6GeneralDetect = 1UL << 13;
    public const ulong ResumeFlag = 1UL << 16, TrapFlag = 1UL << 8, InterruptFlag = 1UL << 9;
    private const int RecordBytes = 64;

    /// <summary>
    /// Loads a logging handler for <paramref name="vector"/> at <paramref name="handler"/> and points the
    /// gate at it. <paramref name="beforeReturn"/> runs just before the handler returns, with RAX and RBX
    /// still pushed (the interrupt frame starts at RSP + 16).
    /// </summary>
    public static void Install(
        LongModeMachine m,
        int resumeAfter = 0,
        int ist = 0,
        ulong handler = LongModeMachine.HandlerBase,
        int vector = 1,
        Action<Assembler>? beforeReturn = null)
    {
        m.Load(handler, a =>
        {
            var keep = a.CreateLabel();
            a.push(rax);
            a.push(rbx);
            a.mov(rbx, CountAddress);
            a.mov(rax, __qword_ptr[rbx]);
            a.inc(__qword_ptr[rbx]);
            a.imul(rax, rax, RecordBytes);
            a.mov(rbx, LogBase);
            a.add(rbx, rax);
            a.mov(__qword_ptr[rbx], vector);
            a.mov(rax, __qword_ptr[rsp + 16]); // RIP (above the two pushes)
            a.mov(__qword_ptr[rbx + 8], rax);
            a.mov(rax, __qword_ptr[rsp + 24]); // CS
            a.mov(__qword_ptr[rbx + 16], rax);
            a.mov(rax, __qword_ptr[rsp + 32]); // RFLAGS
            a.mov(__qword_ptr[rbx + 24], rax);
            a.mov(rax, __qword_ptr[rsp + 48]); // SS
            a.mov(__qword_ptr[rbx + 32], rax);
            a.mov(__qword_ptr[rbx + 40], rcx);
            a.mov(rax, dr6);
            a.mov(__qword_ptr[rbx + 48], rax);
            a.mov(rax, dr7);
            a.mov(__qword_ptr[rbx + 56], rax);
            a.xor(eax, eax);
            a.mov(dr6, rax);
            a.mov(rbx, CountAddress);
            a.cmp(__qword_ptr[rbx], resumeAfter);
            a.jb(keep);
            a.or(__qword_ptr[rsp + 32], (int)ResumeFlag);
            a.and(__qword_ptr[rsp + 32], unchecked((int)~TrapFlag));
            a.Label(ref keep);
            beforeReturn?.Invoke(a);
            a.pop(rbx);
            a.pop(rax);
            a.iretq();
        });
        m.SetGate(vector, handler, ist);
    }

    public static IReadOnlyList<InterruptFrame> Read(LongModeMachine m)
    {
        var memory = m.Machine.Memory;
        int count = (int)memory.ReadValue<ulong>(CountAddress);
        var log = new List<InterruptFrame>();
        for (int i = 0; i < count; i++)
        {
            ulong r = LogBase + (ulong)(i * RecordBytes);
            ulong Field(int k) => memory.ReadValue<ulong>(r + (ulong)(8 * k));
            log.Add(new InterruptFrame((int)Field(0), Field(1), Field(2), Field(3), Field(4), Field(5), Field(6), Field(7)));
        }
        return log;
    }
}

/// <summary>One event as <see cref="InterruptFrameLog"/> saw it.</summary>
internal sealed record InterruptFrame(int Vector, ulong Rip, ulong Cs, ulong Rflags, ulong Ss, ulong Rcx, ulong Dr6, ulong Dr7);
