using System.Text;

namespace Actors.Grains.Tests;

/// <summary>The guest images built from guests/ and their expected serial output.</summary>
public static class Guests
{
    private static readonly Lazy<string> Root = new(FindRoot);

    public static byte[] Image(string name) => File.ReadAllBytes(Path.Combine(Root.Value, "guests", "build", name + ".elf"));

    public static string ExpectedOutput(string name) => Normalize(File.ReadAllText(Path.Combine(Root.Value, "guests", "expected", name + ".out")));

    public static int ExpectedStatus(string name) => int.Parse(File.ReadAllText(Path.Combine(Root.Value, "guests", "expected", name + ".status")).Trim());

    public static string Normalize(string serial) => serial.Replace("\r\n", "\n", StringComparison.Ordinal);

    public static string Decode(IEnumerable<byte> bytes) => Normalize(Encoding.ASCII.GetString(bytes.ToArray()));

    private static string FindRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "guests", "Makefile")))
                return dir.FullName;
        }

        throw new InvalidOperationException($"no guests/Makefile above {AppContext.BaseDirectory}");
    }
}
