using System.Reflection;
using System.Runtime.CompilerServices;
using Actors.Grains.Migration;
using Actors.Grains.Worker;
using Actors.HwBackend.Memory;
using Actors.HwBackend.Worker;

namespace Actors.Grains.Hosts;

/// <summary>
/// Compiles, ahead of their first call, the methods a switch-over runs once per migration: the
/// worker grain's and the coordinator's (with their async state machines), the page transfer, the
/// VM worker, and the Orleans-generated invokers and codecs of the worker grain's interface. A
/// first migration between fresh silos otherwise compiles them while the guest is stopped.
/// </summary>
internal static class MigrationPathPrejit
{
    public static void Run()
    {
        foreach (Type type in new[] { typeof(VmWorkerGrain), typeof(MigrationGrain), typeof(GuestPageTransfer), typeof(VmWorker) })
            Prepare(type);
        // The generated code lives in the assembly that declares the interface, named after it.
        foreach (Type type in typeof(IVmWorkerGrain).Assembly.GetTypes())
        {
            if (type.FullName is { } name && (name.Contains(nameof(IVmWorkerGrain), StringComparison.Ordinal)
                || name.Contains(nameof(MigrationHandover), StringComparison.Ordinal) || name.Contains(nameof(PageBatch), StringComparison.Ordinal)
                || name.Contains(nameof(MigrationPassReport), StringComparison.Ordinal) || name.Contains(nameof(MigrationSwitchOverReport), StringComparison.Ordinal)))
                Prepare(type);
        }
    }

    private static void Prepare(Type type)
    {
        if (type.ContainsGenericParameters)
            return;
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        foreach (MethodBase method in type.GetMethods(all).Concat<MethodBase>(type.GetConstructors(all)))
        {
            if (method.IsAbstract || method.ContainsGenericParameters)
                continue;
            try
            {
                RuntimeHelpers.PrepareMethod(method.MethodHandle);
            }
            catch (Exception e) when (e is ArgumentException or NotSupportedException or TypeLoadException or InvalidOperationException)
            {
                // Some methods cannot be compiled on their own (e.g. runtime-provided ones); they just stay cold.
            }
        }

        // Async methods and iterators run in compiler-generated nested types.
        foreach (Type nested in type.GetNestedTypes(BindingFlags.NonPublic | BindingFlags.Public))
            Prepare(nested);
    }
}
