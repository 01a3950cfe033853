using Actors.HwBackend.Boot;
using Actors.HwBackend.Tests.Memory;
using Xunit;

namespace Actors.HwBackend.Tests.Boot;

/// <summary>The images in guests/build (built by guests/Makefile before this project) load the way their formats say.</summary>
public sealed class BuiltGuestImageLoadTests
{
    [Theory]
    [InlineData("hello", GuestImageFormat.MultibootAddressFields)]
    [InlineData("cpu-selftest", GuestImageFormat.MultibootElf32)]
    [InlineData("compute", GuestImageFormat.Elf64)]
    public void BuiltGuestLoadsInItsFormat(string name, GuestImageFormat expected)
    {
        using var memory = new TestGuestMemory(64 << 20);
        byte[] image = File.ReadAllBytes(Path.Combine(FindGuestsDirectory(), "build", name + ".elf"));

        var loaded = GuestImageLoader.Load(image, memory.Map);

        Assert.Equal(expected, loaded.Format);
        Assert.True(memory.Map.IsRam(loaded.EntryPoint, 1));
        Assert.True(loaded.BootInfoAddress < loaded.ImageStart || loaded.BootInfoAddress >= loaded.ImageEnd, "boot data outside the image");
    }

    private static string FindGuestsDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "guests");
            if (File.Exists(Path.Combine(candidate, "Makefile")))
                return candidate;
        }
        throw new InvalidOperationException("guests/ not found above the test binaries");
    }
}
