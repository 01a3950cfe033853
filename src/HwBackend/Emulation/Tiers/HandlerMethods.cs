using System.Reflection;

namespace Actors.HwBackend.Emulation.Tiers;

/// <summary>
/// The method behind each handler pointer that the decoder puts in an <see cref="Op"/>, so that the
/// translator can find the handler's template and its type arguments. Generic handlers are instantiated
/// over every type argument their constraints allow; an instantiation the decoder never picks costs one
/// dictionary entry.
/// </summary>
internal static unsafe class HandlerMethods
{
    private static readonly Lazy<Dictionary<nint, MethodInfo>> s_byPointer = new(Build);

    /// <summary>The handler method behind <paramref name="fn"/>, or null for one this map does not know.</summary>
    public static MethodInfo? Find(delegate*<Cpu, Op*, int> fn) =>
        s_byPointer.Value.TryGetValue((nint)fn, out MethodInfo? method) ? method : null;

    private static Dictionary<nint, MethodInfo> Build()
    {
        var map = new Dictionary<nint, MethodInfo>();
        Type[] types = typeof(Cpu).Assembly.GetTypes();
        foreach (Type type in types)
        {
            if (type.Namespace is not { } ns || !ns.StartsWith(typeof(Cpu).Namespace!, StringComparison.Ordinal))
                continue;
            foreach (MethodInfo method in type.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                if (!IsHandlerShape(method))
                    continue;
                foreach (MethodInfo instance in Instantiations(method, types))
                    map.TryAdd(instance.MethodHandle.GetFunctionPointer(), instance);
            }
        }

        return map;
    }

    private static bool IsHandlerShape(MethodInfo method)
    {
        if (method.ReturnType != typeof(int))
            return false;
        ParameterInfo[] p = method.GetParameters();
        return p.Length == 2 && p[0].ParameterType == typeof(Cpu) && p[1].ParameterType == typeof(Op*);
    }

    private static IEnumerable<MethodInfo> Instantiations(MethodInfo method, Type[] types)
    {
        if (!method.IsGenericMethodDefinition)
        {
            yield return method;
            yield break;
        }

        Type[] parameters = method.GetGenericArguments();
        var candidates = parameters.Select(p => types.Where(t => Satisfies(t, p)).ToArray()).ToArray();
        foreach (Type[] arguments in Product(candidates, 0, new Type[parameters.Length]))
            yield return method.MakeGenericMethod(arguments);
    }

    /// <summary>Struct types that implement every interface the generic parameter demands.</summary>
    private static bool Satisfies(Type type, Type parameter) =>
        type.IsValueType && !type.IsGenericTypeDefinition && parameter.GetGenericParameterConstraints() is { Length: > 0 } constraints
        && constraints.All(c => c.IsAssignableFrom(type));

    private static IEnumerable<Type[]> Product(Type[][] candidates, int index, Type[] current)
    {
        if (index == candidates.Length)
        {
            yield return (Type[])current.Clone();
            yield break;
        }

        foreach (Type t in candidates[index])
        {
            current[index] = t;
            foreach (Type[] rest in Product(candidates, index + 1, current))
                yield return rest;
        }
    }
}
