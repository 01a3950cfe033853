using System.Collections.Concurrent;
using System.Reflection;
using Actors.HwBackend.Emulation.Handlers;

namespace Actors.HwBackend.Emulation.Tiers;

/// <summary>
/// Finds the template (a method marked <see cref="TranslatesAttribute"/>) of a handler, instantiated over the
/// handler's own type arguments and, where the template takes one, the flags mode the block's flag
/// liveness chose.
/// </summary>
internal static class OpTemplates
{
    private static readonly ConcurrentDictionary<MethodInfo, (MethodInfo Definition, TranslatesAttribute Info)?> s_byHandler = new();

    /// <summary>One op's template, with what the compiler needs to know of it.</summary>
    public sealed record Template(MethodInfo Method, bool Faults, FlagEffect Flags, bool HasFlagsMode);

    /// <summary>The template of <paramref name="handler"/> (an instantiated handler method), or null when it has none.</summary>
    public static Template? For(MethodInfo handler)
    {
        MethodInfo key = handler.IsGenericMethod ? handler.GetGenericMethodDefinition() : handler;
        if (s_byHandler.GetOrAdd(key, Find) is not { } found)
            return null;
        Type[] arguments = handler.IsGenericMethod ? handler.GetGenericArguments() : [];
        int flagsParameters = found.Definition.GetGenericArguments().Length - arguments.Length;
        FlagEffect flags = found.Info.Flags == FlagEffect.WritesAll && arguments.Any(ReadsFlags) ? FlagEffect.Reads : found.Info.Flags;
        return new Template(found.Definition, found.Info.Faults, flags, flagsParameters == 1);
    }

    /// <summary>The template's method for a flags mode: live when a later instruction (or fault) may see them.</summary>
    public static MethodInfo Instantiate(Template template, MethodInfo handler, bool flagsLive)
    {
        Type[] arguments = handler.IsGenericMethod ? handler.GetGenericArguments() : [];
        if (template.HasFlagsMode)
            arguments = [.. arguments, flagsLive ? typeof(FlagsLive) : typeof(FlagsDead)];
        return arguments.Length == 0 ? template.Method : template.Method.MakeGenericMethod(arguments);
    }

    private static (MethodInfo, TranslatesAttribute)? Find(MethodInfo handler)
    {
        int arity = handler.IsGenericMethod ? handler.GetGenericArguments().Length : 0;
        foreach (MethodInfo candidate in handler.DeclaringType!.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic))
        {
            if (candidate.GetCustomAttribute<TranslatesAttribute>() is not { } info || info.Handler != handler.Name)
                continue;
            int extra = (candidate.IsGenericMethodDefinition ? candidate.GetGenericArguments().Length : 0) - arity;
            if (extra is 0 or 1)
                return (candidate, info);
        }

        return null;
    }

    /// <summary>An ALU operation whose result depends on a flag (ADC, SBB) makes its instruction a flag reader.</summary>
    private static bool ReadsFlags(Type argument) =>
        typeof(IAluOp).IsAssignableFrom(argument) && argument.GetProperty(nameof(IAluOp.ReadsFlags), BindingFlags.Static | BindingFlags.Public)?.GetValue(null) is true;
}
