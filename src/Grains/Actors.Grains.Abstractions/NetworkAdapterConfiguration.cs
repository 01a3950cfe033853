using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Actors.Grains;

/// <summary>
/// A VM's network adapter: the virtual switch its port is on, and its MAC address (six hex bytes
/// joined by colons), or null for the one <see cref="AddressOf"/> gives it.
/// </summary>
/// <param name="Switch">The name of the virtual switch the adapter's port is on.</param>
/// <param name="Mac">The adapter's MAC address ("00:15:5d:12:34:56"), or null for the one derived from the VM's name.</param>
[GenerateSerializer]
[Alias("Actors.NetworkAdapterConfiguration")]
public sealed record NetworkAdapterConfiguration(
    [property: Id(0)] string Switch,
    [property: Id(1)] string? Mac = null)
{
    /// <summary>
    /// The adapter's address: the configured one, or Hyper-V's prefix (00:15:5d) and three bytes of a
    /// hash of the VM's name and the adapter's index, the same on every host and after every move.
    /// </summary>
    /// <param name="vm">The VM's name.</param>
    /// <param name="index">The adapter's index on the VM (0 for its first).</param>
    /// <returns>Six lower-case hex bytes joined by colons.</returns>
    public string AddressOf(string vm, int index)
    {
        if (Mac is { } mac)
            return mac.ToLowerInvariant();
        byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{vm}/{index}"));
        return string.Create(CultureInfo.InvariantCulture, $"00:15:5d:{hash[0]:x2}:{hash[1]:x2}:{hash[2]:x2}");
    }

    /// <summary>Six hex bytes joined by colons, of an individual (not group) address that is not all zeros.</summary>
    public static bool IsUnicastAddress(string text)
    {
        string[] parts = text.Split(':');
        if (parts.Length != 6 || parts.Any(p => p.Length != 2 || !byte.TryParse(p, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out _)))
            return false;
        byte first = byte.Parse(parts[0], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        return (first & 1) == 0 && parts.Any(p => p != "00");
    }
}
