using System.Buffers.Binary;
using Actors.HwBackend.Boot;
using Actors.HwBackend.Tests.Memory;
using Xunit;

namespace Actors.HwBackend.Tests.Boot;

/// <summary>
/// Images are untrusted input: whatever the bytes, loading either succeeds or throws
/// <see cref="GuestImageException"/>. Seeds are fixed so a failure reproduces.
/// </summary>
public sealed class GuestImageFuzzTests
{
    private const int Iterations = 3000;

    public static TheoryData<string> Seeds() => new() { "elf32", "address-fields", "elf64", "elf64-multiboot" };

    [Fact]
    public void RandomBytesNeverCrashTheLoader()
    {
        using var memory = new TestGuestMemory();
        var random = new Random(20240601);
        for (int i = 0; i < Iterations; i++)
        {
            var image = new byte[random.Next(0, 9000)];
            random.NextBytes(image);
            // Give the parsers something to chew on: an ELF magic, a Multiboot magic, or both.
            if (image.Length >= 4 && random.Next(3) == 0)
                "\u007fELF"u8.CopyTo(image);
            if (image.Length >= 16 && random.Next(2) == 0)
            {
                int offset = random.Next(0, Math.Min(image.Length, 8192) / 4) * 4;
                if (offset + 12 <= image.Length)
                {
                    uint flags = (uint)random.Next() & 0x1_0003;
                    BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(offset), TestImages.MultibootMagic);
                    BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(offset + 4), flags);
                    BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(offset + 8), unchecked(0u - TestImages.MultibootMagic - flags));
                }
            }
            LoadOrRefuse(memory, image, i);
        }
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void MutatedValidImagesNeverCrashTheLoader(string kind)
    {
        using var memory = new TestGuestMemory();
        byte[] valid = ValidImage(kind);
        GuestImageLoader.Load(valid, memory.Map); // the seed itself is good
        var random = new Random(kind.GetHashCode(StringComparison.Ordinal) ^ 7);
        for (int i = 0; i < Iterations; i++)
        {
            byte[] image = (byte[])valid.Clone();
            int mutations = random.Next(1, 9);
            for (int m = 0; m < mutations; m++)
            {
                // Headers are where parsers go wrong, so most mutations land in the first 256 bytes.
                int limit = random.Next(4) == 0 ? image.Length : Math.Min(image.Length, 256);
                int at = random.Next(limit);
                switch (random.Next(4))
                {
                    case 0: image[at] ^= (byte)(1 << random.Next(8)); break;
                    case 1: image[at] = (byte)random.Next(256); break;
                    case 2: image[at] = random.Next(2) == 0 ? (byte)0 : (byte)0xFF; break;
                    default:
                        if (at + 4 <= image.Length)
                            BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(at), (uint)random.NextInt64(0, 1L << 32));
                        break;
                }
            }
            if (random.Next(8) == 0)
                image = image[..random.Next(image.Length + 1)];
            LoadOrRefuse(memory, image, i);
        }
    }

    private static void LoadOrRefuse(TestGuestMemory memory, byte[] image, int iteration)
    {
        try
        {
            var loaded = GuestImageLoader.Load(image, memory.Map, "fuzz");
            Assert.NotNull(loaded.InitialState);
            Assert.True(memory.Map.IsRam(loaded.EntryPoint, 1), $"iteration {iteration}: entry 0x{loaded.EntryPoint:x} is not RAM");
        }
        catch (GuestImageException ex)
        {
            Assert.DoesNotContain('\n', ex.Message);
        }
        catch (Exception ex)
        {
            Assert.Fail($"iteration {iteration}: {ex.GetType().Name}: {ex.Message} for image {Convert.ToHexString(image.AsSpan(0, Math.Min(image.Length, 128)))}");
        }
    }

    private static byte[] ValidImage(string kind) => kind switch
    {
        "elf32" => TestImages.Elf32(0x100010, [TestSegment.Code(0x100000, 0x200, bss: 0x1000), TestSegment.Code(0x180000, 0x40)], TestImages.MultibootHeader(0x3)),
        "address-fields" => TestImages.AddressFieldsImage(TestSegment.Code(0, 0x300).Data, 0x100000, 0x800, 0x40, prefix: 0x40),
        "elf64" => TestImages.Elf64(0x100010, [TestSegment.Code(0x100000, 0x200, bss: 0x1000), TestSegment.Code(0x180000, 0x40)]),
        _ => TestImages.Elf64(0x100010, [TestSegment.Code(0x100000, 0x200)], TestImages.MultibootAddressHeader(0x100000, 0x100000, 0, 0, 0x100000)),
    };
}
