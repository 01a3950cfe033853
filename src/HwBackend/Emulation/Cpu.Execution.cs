using System.Runtime.CompilerServices;
using Actors.HwBackend.Abstractions;
using Actors.HwBackend.Emulation.Tiers;
using Iced.Intel;

namespace Actors.HwBackend.Emulation;

/// <summary>
/// The run loop: find or build the block at CS:RIP, run its ops until one ends the block, handle
/// events between blocks (stop requests, interrupts, cross-CPU requests), deliver faults.
/// </summary>
internal sealed unsafe partial class Cpu
{
    private const int MaxBlockInstructions = 64;

    public const int EventStop = 1, EventInterrupt = 2, EventWindow = 4, EventFlushTlb = 8, EventInvalidateCode = 16, EventFlushWriteTlb = 32;

    /// <summary>Requests from other threads, checked between blocks.</summary>
    public int Events;

    private readonly BlockCache _blocks = new();
    private GuestCodeReader? _reader;
    private Decoder? _decoder16, _decoder32, _decoder64;
    private Block? _last;

    public VpExit PendingExit;

    private static readonly delegate*<Cpu, Op*, int> s_endOfBlock = &EndOfBlock;

    private static int EndOfBlock(Cpu c, Op* op) => EndOfBlock(c, op->NextIp);

    [Translates(nameof(EndOfBlock))]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int EndOfBlock(Cpu c, ulong nextIp)
    {
        c.Rip = nextIp;
        return Handler.EndBlock;
    }

    /// <summary>The translating tier of this CPU's machine, or null when it only interprets.</summary>
    private readonly BlockTranslator? _translator;

    /// <summary>The op the running block is at, for faults and exits in its middle; null between blocks.</summary>
    public Op* CurrentOp;

    /// <summary>Which of its region's blocks a translated region left from, set on each way out (a fault needs only <see cref="CurrentOp"/>).</summary>
    public int CurrentRegionBlock;

    /// <summary>Instructions retired in translated blocks, of <see cref="InstructionsRetired"/>.</summary>
    public ulong InstructionsTranslated;

    /// <summary>Non-zero while a thread is inside <see cref="Run"/>.</summary>
    private int _running;

    /// <summary>Counts write-TLB flushes done on this CPU's thread, so other threads can wait for one.</summary>
    private long _writeFlushes;

    public VpExit Run()
    {
        Volatile.Write(ref _running, 1);
        try
        {
            return RunLoop();
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }

    /// <summary>
    /// Makes this CPU drop its write-TLB entries before it writes guest memory again. If it is
    /// running, waits (briefly: it checks events between blocks) until it has; if it is not, the
    /// pending event is handled first thing in its next <see cref="Run"/>.
    /// </summary>
    public void FlushWriteTlbAndWait()
    {
        long before = Interlocked.Read(ref _writeFlushes);
        Interlocked.Or(ref Events, EventFlushWriteTlb);
        var spin = new SpinWait();
        while (Volatile.Read(ref _running) != 0 && Interlocked.Read(ref _writeFlushes) == before && (Volatile.Read(ref Events) & EventFlushWriteTlb) != 0)
            spin.SpinOnce();
    }

    // Entered once per exit and then looping for long: compiled optimized at once, instead of through an
    // on-stack replacement that keeps the loop's variables in memory.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private VpExit RunLoop()
    {
        WriteEvent = 0;
        while (true)
        {
            // The handlers live out here, not in the loop that runs the blocks: a local that a handler reads
            // lives in memory for the whole method, and the blocks' loop then paid a load or a store for each.
            try
            {
                return RunBlocks();
            }
            catch (CpuFault f)
            {
                Op* op = CurrentOp;
                if (op != null)
                {
                    InstructionsRetired -= op->LeftInBlock;
                    Rip = op->Ip;
                }
                _last = null;
                WriteEvent = 0;
                if (!DeliverException(f.Vector, f.ErrorCode, f.HasErrorCode, out var shutdown))
                    return shutdown;
            }
            catch (MmioReadPending)
            {
                Op* op = CurrentOp;
                InstructionsRetired -= op->LeftInBlock;
                Rip = op->Ip;
                _last = null;
                return PendingExit;
            }
        }
    }

    /// <summary>
    /// Runs blocks until one exits. A fault or a pending MMIO read leaves with <see cref="CurrentOp"/> at the op
    /// that raised it, or null when it came before any op (fetching the block).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private VpExit RunBlocks()
    {
        while (true)
        {
            CurrentOp = null;
            if (Events != 0 || Halted)
            {
                if (HandleEvents(out var exit)) return exit;
            }
            if (DebugStepping)
            {
                if (RunDebugStep(out var exit)) return exit;
                continue;
            }
            if (_interruptShadow)
            {
                // STI or MOV SS holds interrupts off for exactly one instruction: with one waiting,
                // run that instruction alone and deliver at the boundary after it.
                _interruptShadow = false;
                if (Volatile.Read(ref Events) != 0 && RunOneInstruction(out var exit)) return exit;
                continue;
            }

            Block b = FindBlock();
            Op* op = b.Ops;
            ulong retiredBefore = InstructionsRetired;
            int r;
            Translation? translation = _translator?.TranslationFor(this, b);
            if (translation != null)
            {
                // The code counts each block's instructions as it enters it, the head included.
                CurrentOp = op;
                r = translation.Code(this);
                op = CurrentOp;
                b = translation.Blocks[CurrentRegionBlock];
            }
            else
            {
                InstructionsRetired += (ulong)b.Count;
                while (true)
                {
                    CurrentOp = op;
                    if ((r = op->Fn(this, op)) != Handler.Continue)
                        break;
                    op++;
                }
            }

            if (r == Handler.Exit)
            {
                // The exiting instruction retired unless it will run again (a port-in awaiting data).
                ulong notRun = op->LeftInBlock - (Rip == op->Ip ? 0UL : 1UL);
                InstructionsRetired -= Math.Min(notRun, (ulong)b.Count);
                if (translation != null) InstructionsTranslated += InstructionsRetired - retiredBefore;
                _last = null;
                return PendingExit;
            }

            // A block can end before its last op (after a write to its own code or to MMIO).
            if (op->LeftInBlock > 1) InstructionsRetired -= op->LeftInBlock - 1u;
            if (translation != null) InstructionsTranslated += InstructionsRetired - retiredBefore;
            _last = b;
        }
    }

    private Block FindBlock()
    {
        var last = _last;
        if (last != null)
        {
            if (Rip == last.EndIp)
            {
                var s = last.FallThrough;
                if (s != null && last.FallThroughEpoch == Epoch && s.Rip == Rip && s.Valid && s.Bitness == Bitness) return s;
                s = LookupOrBuild();
                last.FallThrough = s;
                last.FallThroughEpoch = Epoch;
                return s;
            }
            else
            {
                var s = last.Taken;
                if (s != null && last.TakenEpoch == Epoch && s.Rip == Rip && s.Valid && s.Bitness == Bitness) return s;
                s = LookupOrBuild();
                last.Taken = s;
                last.TakenEpoch = Epoch;
                return s;
            }
        }
        return LookupOrBuild();
    }

    private Block LookupOrBuild()
    {
        ulong linear = (SegBase[CS] + Rip) & LinearMask;
        byte* host = TranslateCode(linear, out ulong ramPage);
        if (ramPage != ulong.MaxValue)
        {
            var b = _blocks.Lookup(host, Rip, Bitness);
            if (b != null) return b;
        }
        return Build(linear, host, ramPage);
    }

    private Block Build(ulong linear, byte* host, ulong ramPage)
    {
        Op* ops = _blocks.Allocate(MaxBlockInstructions + 1);
        if (ops == null)
        {
            _blocks.Clear();
            NewEpoch();
            ops = _blocks.Allocate(MaxBlockInstructions + 1);
        }

        _reader ??= new GuestCodeReader(this);
        _reader.Reset(host, linear);
        var decoder = Bitness switch
        {
            64 => _decoder64 ??= Decoder.Create(64, _reader),
            32 => _decoder32 ??= Decoder.Create(32, _reader),
            _ => _decoder16 ??= Decoder.Create(16, _reader),
        };
        decoder.IP = Rip;

        var block = new Block { Rip = Rip, Host = host, Bitness = Bitness, Ops = ops, RamPage0 = ramPage };
        int n = 0;
        ulong ip = Rip;
        ulong startPage = linear & PageMask;
        while (n < MaxBlockInstructions)
        {
            decoder.Decode(out var instr);
            if (decoder.LastError == DecoderError.NoMoreBytes)
            {
                // The instruction runs onto a page that faults (or, at the top of the address space, none).
                if (n == 0)
                {
                    _blocks.Shrink(ops, 0);
                    throw _reader.Fault ?? new CpuFault(ExceptionVector.GP, 0, true);
                }
                break;
            }
            Op* op = ops + n;
            bool ends = Translator.Translate(in instr, op, Bitness);
            n++;
            ip = instr.NextIP;
            if (ends) break;
            if (((SegBase[CS] + ip) & LinearMask & PageMask) != startPage) break;
        }
        if (_reader.SecondPage != ulong.MaxValue) block.RamPage1 = _reader.SecondPage;

        _blocks.Shrink(ops, n + 1);
        for (int i = 0; i < n; i++)
            ops[i].LeftInBlock = (byte)(n - i);
        Op* sentinel = ops + n;
        *sentinel = default;
        sentinel->Fn = s_endOfBlock;
        sentinel->NextIp = ip;
        block.Count = n;
        block.EndIp = ip;

        if (ramPage != ulong.MaxValue)
        {
            Machine.MarkCode(this, ramPage);
            if (block.RamPage1 != ulong.MaxValue) Machine.MarkCode(this, block.RamPage1);
            _blocks.Insert(block);
        }
        return block;
    }

    /// <summary>
    /// Whether translated code may go on from one of its blocks to the next without the run loop: no
    /// event, halt, interrupt shadow or single-step is pending, and the code segment still has the base
    /// and size the region was found with.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool MayChain(ulong codeSegmentBase, int bitness) =>
        Events == 0 && !Halted && !_interruptShadow && ((FlagsOther & (RflagsBits.TF | RflagsBits.RF)) | (ulong)_debugSlow) == 0
        && SegBase[CS] == codeSegmentBase && Bitness == bitness;

    /// <summary>
    /// The region a translation of <paramref name="head"/> covers: the head, then blocks already decoded
    /// that it reaches by direct branches and fall-throughs, breadth first, each on the head's first
    /// code page and on no other (so that they stay valid exactly as long as the head does, and an address
    /// on that page means the same code wherever the head runs).
    /// </summary>
    public Block[] RegionFrom(Block head, int maxBlocks)
    {
        var region = new List<Block> { head };
        ulong headLinear = (SegBase[CS] + head.Rip) & LinearMask;
        for (int next = 0; next < region.Count && region.Count < maxBlocks; next++)
        {
            Block from = region[next];
            foreach (ulong rip in BlockCompiler.Successors(from, new ReadOnlySpan<Op>(from.Ops, from.Count + 1)))
            {
                ulong linear = (SegBase[CS] + rip) & LinearMask;
                if ((linear & PageMask) != (headLinear & PageMask) || region.Exists(b => b.Rip == rip))
                    continue;
                Block? b = _blocks.Lookup(head.Host + (long)(linear - headLinear), rip, head.Bitness);
                if (b is { Valid: true, RamPage1: ulong.MaxValue } && b.RamPage0 == head.RamPage0 && region.Count < maxBlocks)
                    region.Add(b);
            }
        }

        return region.ToArray();
    }

    /// <summary>Drops decoded code on a RAM page; called on this CPU's thread.</summary>
    public void InvalidateCodePage(ulong ramPage)
    {
        if (_blocks.InvalidatePage(ramPage)) NewEpoch();
    }

    public void ClearCodeCache()
    {
        _blocks.Clear();
        _last = null;
        NewEpoch();
    }

    /// <summary>Handles requests and interrupts between blocks; true when Run must return <paramref name="exit"/>.</summary>
    private bool HandleEvents(out VpExit exit)
    {
        exit = default;
        int ev = Interlocked.Exchange(ref Events, 0);
        if ((ev & EventFlushTlb) != 0) FlushTlb();
        if ((ev & EventFlushWriteTlb) != 0)
        {
            FlushWriteTlb();
            Interlocked.Increment(ref _writeFlushes);
        }
        if ((ev & EventInvalidateCode) != 0) Machine.DrainCodeInvalidations(this);
        if ((ev & EventStop) != 0)
        {
            exit = new VpExit(VpExitReason.StopRequested);
            return true;
        }
        if ((_debugSlow & DebugTrapDue) != 0)
        {
            // A #DB trap owed by the last instruction comes before interrupts (SDM 6.9): look again after it.
            Interlocked.Or(ref Events, EventInterrupt);
        }
        else if (TryDeliverInterrupt())
        {
            return false;
        }
        if (_interruptWindowRequested && IF)
        {
            // Re-armed either way: the request stands until disarmed, and a shadow only delays it.
            Interlocked.Or(ref Events, EventWindow);
            if (!_interruptShadow)
            {
                exit = new VpExit(VpExitReason.InterruptWindow);
                return true;
            }
        }
        if (Halted)
        {
            exit = new VpExit(VpExitReason.Halt);
            if (_pendingInterrupt >= 0 || _interruptWindowRequested || _apic != null) Interlocked.Or(ref Events, EventInterrupt);
            return true;
        }
        return false;
    }

    /// <summary>Runs the single instruction at CS:RIP (the one in an interrupt shadow); true when Run must return <paramref name="exit"/>.</summary>
    private bool RunOneInstruction(out VpExit exit)
    {
        exit = default;
        Op* op = null;
        try
        {
            op = FindBlock().Ops;
            _last = null;
            int r = op->Fn(this, op);
            if (r == Handler.Continue) Rip = op->NextIp;
            if (r == Handler.Exit)
            {
                if (Rip != op->Ip) InstructionsRetired++;
                exit = PendingExit;
                return true;
            }
            InstructionsRetired++;
        }
        catch (CpuFault f)
        {
            if (op != null) Rip = op->Ip;
            _last = null;
            WriteEvent = 0;
            if (!DeliverException(f.Vector, f.ErrorCode, f.HasErrorCode, out exit)) return true;
        }
        catch (MmioReadPending)
        {
            Rip = op->Ip;
            _last = null;
            exit = PendingExit;
            return true;
        }
        return false;
    }
}
