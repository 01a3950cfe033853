using Actors.Tests.Shared;
using static Actors.Client.Tests.HvctlEndToEndTests;

namespace Actors.Client.Tests;

/// <summary>hvctl run with a stock Linux kernel, as a user runs QEMU's -kernel/-initrd/-append: what works, and what is refused.</summary>
public sealed class HvctlLinuxTests
{
    private const string Init = """
        #!/bin/busybox sh
        /bin/busybox --install -s /bin
        mount -t proc proc /proc
        echo "init: $(grep -c ^processor /proc/cpuinfo) CPUs"
        poweroff -f
        """;

    [Fact]
    public async Task Run_boots_the_kernel_with_its_initrd_and_exits_0_when_it_powers_off()
    {
        string initrd = StockLinux.InitrdFile(StockLinux.Initrd(Init));
        try
        {
            ProcessResult r = await HvctlAsync("run", "--kernel", StockLinux.KernelPath, "--initrd", initrd, "--append", StockLinux.CommandLine, "--memory", "256M", "--vcpus", "2");

            Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.Error}");
            Assert.Contains("init: 2 CPUs", r.Out);
            Assert.Contains("reboot: Power down", r.Out);
            Assert.Equal(string.Empty, r.Error.Trim());
        }
        finally
        {
            File.Delete(initrd);
        }
    }

    public static TheoryData<string, string> BadInput => new()
    {
        { "not-a-kernel", "this image is not one" },
        { "truncated-kernel", "bzImage truncated" },
        { "initrd-larger-than-ram", "does not fit" },
    };

    [Theory]
    [MemberData(nameof(BadInput))]
    public async Task Run_refuses_a_bad_kernel_or_initrd_with_one_line_before_the_guest_starts(string damage, string expected)
    {
        string kernel = StockLinux.KernelPath;
        string initrd = StockLinux.InitrdFile(StockLinux.Initrd(Init));
        string? scratch = null;
        try
        {
            switch (damage)
            {
                case "not-a-kernel":
                    scratch = kernel = StockLinux.InitrdFile("just some text\n"u8.ToArray());
                    break;
                case "truncated-kernel":
                    scratch = kernel = StockLinux.InitrdFile(File.ReadAllBytes(StockLinux.KernelPath)[..(1 << 20)]);
                    break;
                case "initrd-larger-than-ram":
                    // A valid archive padded with zeros (the kernel skips them) to more than the VM's 64 MiB.
                    File.WriteAllBytes(initrd, [.. File.ReadAllBytes(initrd), .. new byte[80 << 20]]);
                    break;
            }

            ProcessResult r = await HvctlAsync("run", "--kernel", kernel, "--initrd", initrd, "--append", StockLinux.CommandLine, "--memory", "64M");

            Assert.Equal(1, r.ExitCode);
            string line = Assert.Single(r.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains(expected, line);
            Assert.DoesNotContain("Linux version", r.Out);
        }
        finally
        {
            File.Delete(initrd);
            if (scratch is not null)
                File.Delete(scratch);
        }
    }

    [Fact]
    public async Task An_empty_append_is_a_usage_error()
    {
        ProcessResult r = await HvctlAsync("run", "--kernel", StockLinux.KernelPath, "--append", "");

        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--append is empty", Assert.Single(r.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
    }
}
