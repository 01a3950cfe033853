using System.Reflection;
using System.Reflection.Emit;

namespace Actors.HwBackend.Emulation.Tiers;

/// <summary>
/// Runs a whole block in one call: returns <see cref="Handler.EndBlock"/> or <see cref="Handler.Exit"/>
/// with <see cref="Cpu.CurrentOp"/> at the op that ended it, exactly as the interpreter's loop leaves
/// its own op pointer.
/// </summary>
internal delegate int CompiledBlock(Cpu cpu);

/// <summary>
/// Compiles a decoded block to a <see cref="DynamicMethod"/>: the block's handlers called one after the
/// other with their op's address as a constant, so the JIT sees straight-line code it can inline and
/// no indirect branch per instruction. Before each op the code records it in <see cref="Cpu.CurrentOp"/>,
/// so a fault or an exit in the middle of the block is charged to the right instruction with the
/// interpreter's architectural state (every op before it has completed, none after it has started).
/// Dynamic methods are collected once nothing refers to their delegate.
/// </summary>
internal static unsafe class BlockCompiler
{
    private static readonly FieldInfo s_currentOp = typeof(Cpu).GetField(nameof(Cpu.CurrentOp))!;
    private static readonly Type[] s_handlerParameters = [typeof(Cpu), typeof(Op*)];

    /// <summary>
    /// Compiles the block at <paramref name="ops"/> from <paramref name="snapshot"/>, a copy of its ops
    /// (the last one the sentinel) taken on the vCPU thread: the compiler never reads the op pool, which
    /// the vCPU may reuse meanwhile. The compiled code uses the ops at <paramref name="ops"/> only when it
    /// runs, which it does only while the block is valid.
    /// </summary>
    public static CompiledBlock Compile(Op* ops, ReadOnlySpan<Op> snapshot, ulong rip)
    {
        var method = new DynamicMethod($"block_{rip:x}", typeof(int), [typeof(Cpu)], typeof(Cpu), skipVisibility: true);
        ILGenerator il = method.GetILGenerator();
        LocalBuilder result = il.DeclareLocal(typeof(int));
        Label exit = il.DefineLabel();
        for (int i = 0; i < snapshot.Length; i++)
        {
            Op* op = ops + i;
            il.Emit(OpCodes.Ldarg_0);
            EmitPointer(il, op);
            il.Emit(OpCodes.Stfld, s_currentOp);
            il.Emit(OpCodes.Ldarg_0);
            EmitPointer(il, op);
            EmitHandlerCall(il, snapshot[i].Fn);
            if (i == snapshot.Length - 1)
            {
                // The sentinel: sets RIP to the fall-through address and ends the block.
                il.Emit(OpCodes.Ret);
                break;
            }

            il.Emit(OpCodes.Stloc, result);
            il.Emit(OpCodes.Ldloc, result);
            il.Emit(OpCodes.Brtrue, exit);
        }

        il.MarkLabel(exit);
        il.Emit(OpCodes.Ldloc, result);
        il.Emit(OpCodes.Ret);
        return method.CreateDelegate<CompiledBlock>();
    }

    private static void EmitHandlerCall(ILGenerator il, delegate*<Cpu, Op*, int> fn)
    {
        if (HandlerMethods.Find(fn) is { } handler)
        {
            il.Emit(OpCodes.Call, handler);
            return;
        }

        EmitPointer(il, fn);
        il.EmitCalli(OpCodes.Calli, CallingConventions.Standard, typeof(int), s_handlerParameters, null);
    }

    private static void EmitPointer(ILGenerator il, void* pointer)
    {
        il.Emit(OpCodes.Ldc_I8, (long)pointer);
        il.Emit(OpCodes.Conv_U);
    }
}
