using System.Diagnostics;
using Actors.HwBackend.Emulation;
using Actors.HwBackend.Kvm;
using Actors.HwBackend.KvmConformance;

// usage: Actors.HwBackend.KvmConformance [--nested] [--only PREFIX] GUESTS_DIR [LINUX_DIR]
// LINUX_DIR holds a stock kernel (vmlinuz), an initrd whose /init runs the stock Linux test's script, and the
// hash it must print (sha256). --nested: KVM is nested in QEMU TCG, where an exit takes about 100 times as long
// as on hardware (see LinuxConformance). --only: the checks whose names start with PREFIX.
// Prints "START name" as a check begins and "PASS name (time)" or "FAIL name: reason" as it ends, then
// "DONE passed/total"; exits 0 when all pass.
const string Usage = "usage: Actors.HwBackend.KvmConformance [--nested] [--only PREFIX] GUESTS_DIR [LINUX_DIR]";
bool nested = false;
string only = "";
var directories = new List<string>();
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--nested")
        nested = true;
    else if (args[i] == "--only" && i + 1 < args.Length)
        only = args[++i];
    else if (Directory.Exists(args[i]))
        directories.Add(args[i]);
    else
    {
        Console.Error.WriteLine($"'{args[i]}' is not an option or a directory; {Usage}");
        return 2;
    }
}

if (directories.Count is < 1 or > 2)
{
    Console.Error.WriteLine(Usage);
    return 2;
}

int passed = 0, total = 0;
void Run(IEnumerable<(string Name, Func<string?> Check)> checks)
{
    foreach ((string name, Func<string?> check) in checks.Where(c => c.Name.StartsWith(only, StringComparison.Ordinal)))
    {
        total++;
        // A check that hangs shows as the last one started.
        Console.WriteLine($"START {name}");
        var clock = Stopwatch.StartNew();
        string? failure;
        try
        {
            failure = check();
        }
        catch (Exception e)
        {
            failure = $"{e.GetType().Name}: {e.Message}";
        }

        if (failure is null)
        {
            passed++;
            Console.WriteLine($"PASS {name} ({clock.ElapsedMilliseconds} ms)");
        }
        else
        {
            Console.WriteLine($"FAIL {name}: {failure.ReplaceLineEndings(" | ")}");
        }
    }
}

// The contract's checks run on the software CPU too: a check that fails on one backend only is a difference.
Run(new ContractChecks(new EmulatorBackend()).All());
KvmBackend? kvm = KvmBackend.TryOpen(out string? whyNot);
if (kvm is null)
{
    total++;
    Console.WriteLine($"FAIL kvm-open: {whyNot}");
}
else
{
    using (kvm)
    {
        Console.WriteLine($"kvm: {kvm.Capabilities}");
        Run(new ContractChecks(kvm).All()
            .Concat(new GuestConformance(kvm, directories[0]).All())
            .Concat(new MigrationConformance(kvm, directories[0]).All())
            .Concat(directories.Count == 2 ? new LinuxConformance(kvm, directories[1], nested).All() : []));
    }
}

Console.WriteLine($"DONE {passed}/{total}");
return passed == total ? 0 : 1;
