using System.Text;
using Actors.HwBackend.Snapshots;
using Xunit;

namespace Actors.HwBackend.Tests.Snapshots;

public sealed class Crc32CTests
{
    [Fact]
    public void TheCheckValueOfTheCastagnoliPolynomialComesOut()
    {
        // The catalogue's check value: CRC-32C of the ASCII digits 1 to 9.
        Assert.Equal(0xE306_9283u, Crc32C.Compute(Encoding.ASCII.GetBytes("123456789")));
        Assert.Equal(0xE306_9283u, ~Crc32C.UpdateWithTable(~0u, Encoding.ASCII.GetBytes("123456789")));
        Assert.Equal(0u, Crc32C.Compute([]));
    }

    [Fact]
    public void TheFastFormAgreesWithTheTableOnEveryLengthAndAlignment()
    {
        // On a host with SSE4.2 (every x86-64 this runs on) Compute takes the hardware path.
        var random = new Random(32);
        byte[] data = new byte[300];
        random.NextBytes(data);
        for (int start = 0; start < 9; start++)
        {
            for (int length = 0; start + length <= data.Length; length += 1 + length / 8)
            {
                ReadOnlySpan<byte> slice = data.AsSpan(start, length);
                Assert.Equal(~Crc32C.UpdateWithTable(~0u, slice), Crc32C.Compute(slice));
            }
        }
    }
}
