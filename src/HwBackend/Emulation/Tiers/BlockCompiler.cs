using System.Reflection;
using System.Reflection.Emit;
using Iced.Intel;
using FlowControl = Iced.Intel.FlowControl;
using Label = System.Reflection.Emit.Label;

namespace Actors.HwBackend.Emulation.Tiers;

/// <summary>
/// Runs a translated region from its head: returns <see cref="Handler.EndBlock"/> or <see cref="Handler.Exit"/>
/// with <see cref="Cpu.CurrentOp"/> at the op that ended it, exactly as the interpreter's loop leaves it,
/// and <see cref="Cpu.CurrentRegionBlock"/> at that op's block.
/// </summary>
internal delegate int CompiledBlock(Cpu cpu);

/// <summary>
/// Compiles a region of decoded blocks to one <see cref="DynamicMethod"/>: straight-line code with no
/// dispatch between instructions. An op whose handler has a template (<see cref="TranslatesAttribute"/>)
/// becomes a call to the template with the op's fields as constants, which the JIT inlines and folds, with
/// the flags left uncomputed where nothing reads them (<see cref="FlagsLiveAfter"/>); any other op calls its
/// handler through its pointer with its op, as the interpreter does. Before each op that can fault, and on
/// each way out, the code records the op in <see cref="Cpu.CurrentOp"/>, so a fault or an exit in the middle
/// is charged to the right instruction with the interpreter's architectural state (every op before it has
/// completed, none after it has started).
/// A block that ends in a direct branch or falls through to another block of the region continues there
/// inside the method (a loop stays in it) when <see cref="Cpu.MayChain"/> allows: no event, interrupt
/// shadow or single-step is pending, which the run loop would handle between blocks, and CS has the base
/// it had when the region was found, so the region's page is where its addresses say. Each block, the
/// head included, adds its instructions to <see cref="Cpu.InstructionsRetired"/> as it is entered, as the
/// run loop does for a block it interprets.
/// Dynamic methods are collected once nothing refers to their delegate.
/// </summary>
internal static unsafe class BlockCompiler
{
    private static readonly FieldInfo s_currentOp = typeof(Cpu).GetField(nameof(Cpu.CurrentOp))!;
    private static readonly FieldInfo s_currentRegionBlock = typeof(Cpu).GetField(nameof(Cpu.CurrentRegionBlock))!;
    private static readonly FieldInfo s_retired = typeof(Cpu).GetField(nameof(Cpu.InstructionsRetired))!;
    private static readonly FieldInfo s_rip = typeof(Cpu).GetField(nameof(Cpu.Rip))!;
    private static readonly FieldInfo s_registers = typeof(Cpu).GetField(nameof(Cpu.Regs))!;
    private static readonly FieldInfo s_segmentBases = typeof(Cpu).GetField(nameof(Cpu.SegBase))!;
    private static readonly FieldInfo s_linearMask = typeof(Cpu).GetField(nameof(Cpu.LinearMask))!;
    private static readonly MethodInfo s_mayChain = typeof(Cpu).GetMethod(nameof(Cpu.MayChain))!;
    private static readonly Type[] s_handlerParameters = [typeof(Cpu), typeof(Op*)];

    /// <summary>
    /// Compiles <paramref name="translation"/>'s blocks from <paramref name="snapshots"/>, copies of their ops
    /// (each ending with its sentinel) taken on the vCPU thread: the compiler never reads the op pool, which
    /// the vCPU may reuse meanwhile. The code uses the ops in the pool only when it runs, which it does only
    /// while the head block is valid, and with it the region's page.
    /// </summary>
    public static CompiledBlock Compile(Translation translation, Op[][] snapshots, ulong codeSegmentBase)
    {
        Block[] blocks = translation.Blocks;
        var method = new DynamicMethod($"block_{blocks[0].Rip:x}", typeof(int), [typeof(Translation), typeof(Cpu)], typeof(Cpu), skipVisibility: true);
        ILGenerator il = method.GetILGenerator();
        LocalBuilder result = il.DeclareLocal(typeof(int));
        Label exit = il.DefineLabel();
        Label[] starts = blocks.Select(_ => il.DefineLabel()).ToArray();
        // Called with no CPU, the code returns at once: that is how the translation thread has the JIT
        // compile it (a dynamic method is compiled at its first call), so the vCPU never waits for the JIT.
        Label run = il.DefineLabel();
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(OpCodes.Brtrue, run);
        il.Emit(OpCodes.Ldc_I4_0);
        il.Emit(OpCodes.Ret);

        // The register file and segment bases never move: held in locals, the JIT keeps their addresses in
        // host registers instead of loading them from the CPU again after every store.
        il.MarkLabel(run);
        var pointers = new CpuPointers(il.DeclareLocal(typeof(ulong*)), il.DeclareLocal(typeof(ulong*)));
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(OpCodes.Ldfld, s_registers);
        il.Emit(OpCodes.Stloc, pointers.Registers);
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(OpCodes.Ldfld, s_segmentBases);
        il.Emit(OpCodes.Stloc, pointers.SegmentBases);
        il.Emit(OpCodes.Br, starts[0]);
        var exits = new List<(Label Leave, nint Op, int Block)>();
        for (int k = 0; k < blocks.Length; k++)
        {
            Block block = blocks[k];
            Op[] ops = snapshots[k];
            il.MarkLabel(starts[k]);
            il.Emit(OpCodes.Ldarg_1);
            il.Emit(OpCodes.Ldarg_1);
            il.Emit(OpCodes.Ldfld, s_retired);
            il.Emit(OpCodes.Ldc_I8, (long)block.Count);
            il.Emit(OpCodes.Add);
            il.Emit(OpCodes.Stfld, s_retired);

            // The last real op, when it is a direct branch, ends the block normally; else the sentinel does.
            ulong[] successors = Successors(block, ops);
            int last = successors.Length > 0 && ops[^2].Instr.FlowControl != FlowControl.Next ? ops.Length - 2 : ops.Length - 1;
            var handlers = new MethodInfo?[last + 1];
            var templates = new OpTemplates.Template?[last + 1];
            for (int i = 0; i <= last; i++)
            {
                handlers[i] = HandlerMethods.Find(ops[i].Fn);
                templates[i] = handlers[i] is { } h ? OpTemplates.For(h) : null;
            }

            bool[] flagsLive = FlagsLiveAfter(templates);
            for (int i = 0; i <= last; i++)
            {
                Op* op = block.Ops + i;
                bool returnsResult;
                if (templates[i] is { } template)
                {
                    MethodInfo specialised = OpTemplates.Instantiate(template, handlers[i]!, flagsLive[i]);
                    returnsResult = specialised.ReturnType == typeof(int);
                    // Before anything that can fault; one that only returns a result records itself on its way out.
                    if (template.Faults)
                        EmitCurrentOp(il, op);
                    EmitTemplateCall(il, pointers, specialised, ops[i]);
                }
                else
                {
                    returnsResult = true;
                    EmitCurrentOp(il, op);
                    EmitHandlerCall(il, op, ops[i].Fn);
                }

                if (!returnsResult)
                    continue;
                Label leave = il.DefineLabel();
                exits.Add((leave, (nint)op, k));
                il.Emit(OpCodes.Stloc, result);
                il.Emit(OpCodes.Ldloc, result);
                if (i < last)
                {
                    il.Emit(OpCodes.Brtrue, leave);
                    continue;
                }

                il.Emit(OpCodes.Ldc_I4, Handler.EndBlock);
                il.Emit(OpCodes.Bne_Un, leave);
                EmitChain(il, blocks, starts, successors, codeSegmentBase, leave);
            }
        }

        // Each way out records the op it leaves at and its block, off the path that stays in the code.
        foreach ((Label leave, nint op, int block) in exits)
        {
            il.MarkLabel(leave);
            EmitCurrentOp(il, (Op*)op);
            il.Emit(OpCodes.Ldarg_1);
            il.Emit(OpCodes.Ldc_I4, block);
            il.Emit(OpCodes.Stfld, s_currentRegionBlock);
            il.Emit(OpCodes.Br, exit);
        }

        il.MarkLabel(exit);
        il.Emit(OpCodes.Ldloc, result);
        il.Emit(OpCodes.Ret);
        var code = method.CreateDelegate<CompiledBlock>(translation);
        code(null!);
        return code;
    }

    /// <summary>
    /// Where a block goes next when it ends normally, if the address is known before it runs;
    /// <paramref name="ops"/> are the block's ops and its sentinel.
    /// </summary>
    public static ulong[] Successors(Block block, ReadOnlySpan<Op> ops)
    {
        if (ops.Length < 2)
            return [];
        ref readonly Instruction last = ref ops[^2].Instr;
        bool near = last.Op0Kind is OpKind.NearBranch16 or OpKind.NearBranch32 or OpKind.NearBranch64;
        return last.FlowControl switch
        {
            FlowControl.Next => [block.EndIp], // the sentinel
            FlowControl.ConditionalBranch when near => [last.NearBranchTarget, block.EndIp],
            FlowControl.UnconditionalBranch or FlowControl.Call when near => [last.NearBranchTarget],
            _ => [],
        };
    }

    /// <summary>
    /// Whether each op's flags may be read after it: by a later op, by the next block (all are live at the
    /// end), or by a fault handler, which sees them as they were before the faulting instruction. An op's
    /// flags are dead when a later op overwrites all six before anything reads them and nothing between
    /// them can fault or leave the block.
    /// </summary>
    private static bool[] FlagsLiveAfter(OpTemplates.Template?[] templates)
    {
        var liveAfter = new bool[templates.Length];
        bool live = true;
        for (int i = templates.Length - 1; i >= 0; i--)
        {
            liveAfter[i] = live;
            OpTemplates.Template? t = templates[i];
            bool staysInBlock = t is { Faults: false } && t.Method.ReturnType == typeof(void);
            if (staysInBlock && t!.Flags == FlagEffect.WritesAll)
                live = false;
            else if (!(staysInBlock && t!.Flags == FlagEffect.None))
                live = true;
        }

        return liveAfter;
    }

    private static void EmitCurrentOp(ILGenerator il, Op* op)
    {
        il.Emit(OpCodes.Ldarg_1);
        EmitPointer(il, op);
        il.Emit(OpCodes.Stfld, s_currentOp);
    }

    /// <summary>
    /// Calls an op's handler through its pointer, as the interpreter does: the JIT cannot inline it, which
    /// keeps a region's code, and the time the JIT takes over it, in proportion to the ops it has templates for.
    /// </summary>
    private static void EmitHandlerCall(ILGenerator il, Op* op, delegate*<Cpu, Op*, int> fn)
    {
        il.Emit(OpCodes.Ldarg_1);
        EmitPointer(il, op);
        EmitPointer(il, fn);
        il.EmitCalli(OpCodes.Calli, CallingConventions.Standard, typeof(int), s_handlerParameters, null);
    }

    /// <summary>Calls a template with the op's fields as constants, by the names of its parameters.</summary>
    private static void EmitTemplateCall(ILGenerator il, CpuPointers pointers, MethodInfo template, in Op op)
    {
        foreach (ParameterInfo parameter in template.GetParameters())
        {
            switch (parameter.Name)
            {
                case "c":
                    il.Emit(OpCodes.Ldarg_1);
                    break;
                case "regs":
                    il.Emit(OpCodes.Ldloc, pointers.Registers);
                    break;
                case "r1":
                    il.Emit(OpCodes.Ldc_I4, (int)op.R1);
                    break;
                case "r2":
                    il.Emit(OpCodes.Ldc_I4, (int)op.R2);
                    break;
                case "r3":
                    il.Emit(OpCodes.Ldc_I4, (int)op.R3);
                    break;
                case "aux":
                    il.Emit(OpCodes.Ldc_I4, (int)op.Aux);
                    break;
                case "imm":
                    il.Emit(OpCodes.Ldc_I8, (long)op.Imm);
                    break;
                case "nextIp":
                    il.Emit(OpCodes.Ldc_I8, (long)op.NextIp);
                    break;
                case "offset":
                    EmitOffset(il, pointers, op);
                    break;
                case "la":
                    EmitOffset(il, pointers, op);
                    EmitSlot(il, pointers.SegmentBases, op.Seg);
                    il.Emit(OpCodes.Add);
                    il.Emit(OpCodes.Ldarg_1);
                    il.Emit(OpCodes.Ldfld, s_linearMask);
                    il.Emit(OpCodes.And);
                    break;
                default:
                    throw new NotSupportedException($"template {template.Name} takes '{parameter.Name}', which is no op field");
            }
        }

        il.Emit(OpCodes.Call, template);
    }

    /// <summary>The memory operand's effective address: base + index × scale + displacement, in the address size.</summary>
    private static void EmitOffset(ILGenerator il, CpuPointers pointers, in Op op)
    {
        bool any = false;
        if (op.Base != Cpu.ZeroReg)
        {
            EmitSlot(il, pointers.Registers, op.Base);
            any = true;
        }

        if (op.Index != Cpu.ZeroReg)
        {
            EmitSlot(il, pointers.Registers, op.Index);
            if (op.Scale != 0)
            {
                il.Emit(OpCodes.Ldc_I4, (int)op.Scale);
                il.Emit(OpCodes.Shl);
            }

            if (any)
                il.Emit(OpCodes.Add);
            any = true;
        }

        if (!any || op.Disp != 0)
        {
            il.Emit(OpCodes.Ldc_I8, (long)op.Disp);
            if (any)
                il.Emit(OpCodes.Add);
        }

        if (op.AddrMask != ulong.MaxValue)
        {
            il.Emit(OpCodes.Ldc_I8, (long)op.AddrMask);
            il.Emit(OpCodes.And);
        }
    }

    /// <summary>Loads slot <paramref name="index"/> of one of the CPU's native register arrays, whose address is in <paramref name="array"/>.</summary>
    private static void EmitSlot(ILGenerator il, LocalBuilder array, int index)
    {
        il.Emit(OpCodes.Ldloc, array);
        if (index != 0)
        {
            il.Emit(OpCodes.Ldc_I4, index * sizeof(ulong));
            il.Emit(OpCodes.Add);
        }

        il.Emit(OpCodes.Ldind_I8);
    }

    /// <summary>Continues at the region block RIP now names, if there is one and the CPU may; else leaves.</summary>
    private static void EmitChain(ILGenerator il, Block[] blocks, Label[] starts, ulong[] successors, ulong codeSegmentBase, Label exit)
    {
        var targets = successors.Distinct()
            .Select(rip => Array.FindIndex(blocks, b => b.Rip == rip))
            .Where(index => index >= 0)
            .ToArray();
        if (targets.Length == 0)
        {
            il.Emit(OpCodes.Br, exit);
            return;
        }

        il.Emit(OpCodes.Ldarg_1);
        il.Emit(OpCodes.Ldc_I8, (long)codeSegmentBase);
        il.Emit(OpCodes.Ldc_I4, blocks[0].Bitness);
        il.Emit(OpCodes.Call, s_mayChain);
        il.Emit(OpCodes.Brfalse, exit);
        foreach (int index in targets)
        {
            il.Emit(OpCodes.Ldarg_1);
            il.Emit(OpCodes.Ldfld, s_rip);
            il.Emit(OpCodes.Ldc_I8, (long)blocks[index].Rip);
            il.Emit(OpCodes.Beq, starts[index]);
        }

        il.Emit(OpCodes.Br, exit);
    }

    private static void EmitPointer(ILGenerator il, void* pointer)
    {
        il.Emit(OpCodes.Ldc_I8, (long)pointer);
        il.Emit(OpCodes.Conv_U);
    }

    /// <summary>The locals that hold <see cref="Cpu.Regs"/> and <see cref="Cpu.SegBase"/> while the code runs.</summary>
    private sealed record CpuPointers(LocalBuilder Registers, LocalBuilder SegmentBases);
}
