using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Actors.HwBackend.Tests.Emulation;

/// <summary>
/// A 64-bit #DB handler for a <see cref="LongModeMachine"/> that appends what each #DB shows to a
/// log in guest memory: the pushed RIP, CS, RFLAGS, SS, the interrupted RCX, and DR6 and DR7 as the
/// handler finds them. It then clears DR6 (which reads back as its fixed bits, 0xFFFF0FF0), and from
/// the <c>resumeAfter</c>-th #DB on it sets RF and clears TF in the RFLAGS image before IRETQ.
/// </summary>
internal static class DebugExceptionLog
{
    public const ulong CountAddress = 0x9_0000, LogBase = 0x9_0100;
    public const ulong Dr6Fixed = 0xFFFF_0FF0, Dr6SingleStep = 1UL << 14, Dr6GeneralDetect = 1UL << 13;
    public const ulong ResumeFlag = 1UL << 16, TrapFlag = 1UL << 8;
    private const int RecordBytes = 56;

    /// <summary>Loads the handler at <paramref name="handler"/> and points vector 1 at it.</summary>
    public static void Install(LongModeMachine m, int resumeAfter = 0, int ist = 0, ulong handler = LongModeMachine.HandlerBase)
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
            a.mov(rax, __qword_ptr[rsp + 16]); // RIP (above the two pushes)
            a.mov(__qword_ptr[rbx], rax);
            a.mov(rax, __qword_ptr[rsp + 24]); // CS
            a.mov(__qword_ptr[rbx + 8], rax);
            a.mov(rax, __qword_ptr[rsp + 32]); // RFLAGS
            a.mov(__qword_ptr[rbx + 16], rax);
            a.mov(rax, __qword_ptr[rsp + 48]); // SS
            a.mov(__qword_ptr[rbx + 24], rax);
            a.mov(__qword_ptr[rbx + 32], rcx);
            a.mov(rax, dr6);
            a.mov(__qword_ptr[rbx + 40], rax);
            a.mov(rax, dr7);
            a.mov(__qword_ptr[rbx + 48], rax);
            a.xor(eax, eax);
            a.mov(dr6, rax);
            a.mov(rbx, CountAddress);
            a.cmp(__qword_ptr[rbx], resumeAfter);
            a.jb(keep);
            a.or(__qword_ptr[rsp + 32], (int)ResumeFlag);
            a.and(__qword_ptr[rsp + 32], unchecked((int)~TrapFlag));
            a.Label(ref keep);
            a.pop(rbx);
            a.pop(rax);
            a.iretq();
        });
        m.SetGate(1, handler, ist);
    }

    public static IReadOnlyList<DebugException> Read(LongModeMachine m)
    {
        var memory = m.Machine.Memory;
        int count = (int)memory.ReadValue<ulong>(CountAddress);
        var log = new List<DebugException>();
        for (int i = 0; i < count; i++)
        {
            ulong r = LogBase + (ulong)(i * RecordBytes);
            log.Add(new DebugException(
                memory.ReadValue<ulong>(r), memory.ReadValue<ulong>(r + 8), memory.ReadValue<ulong>(r + 16),
                memory.ReadValue<ulong>(r + 24), memory.ReadValue<ulong>(r + 32), memory.ReadValue<ulong>(r + 40),
                memory.ReadValue<ulong>(r + 48)));
        }
        return log;
    }
}

/// <summary>One #DB as <see cref="DebugExceptionLog"/> saw it.</summary>
internal sealed record DebugException(ulong Rip, ulong Cs, ulong Rflags, ulong Ss, ulong Rcx, ulong Dr6, ulong Dr7);
