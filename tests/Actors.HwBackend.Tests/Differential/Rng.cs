namespace Actors.HwBackend.Tests.Differential;

/// <summary>
/// SplitMix64 plus the value distributions the generator needs. Own implementation so a seed
/// reproduces the same cases on every runtime version.
/// </summary>
internal sealed class Rng
{
    private ulong _state;

    public Rng(ulong seed) => _state = seed;

    public static ulong Seed(string name, ulong salt)
    {
        // FNV-1a: string.GetHashCode is randomised per process.
        ulong h = 0xCBF2_9CE4_8422_2325;
        foreach (char ch in name)
        {
            h ^= ch;
            h *= 0x100_0000_01B3;
        }
        return h ^ (salt * 0x9E37_79B9_7F4A_7C15);
    }

    public ulong Next()
    {
        ulong z = _state += 0x9E37_79B9_7F4A_7C15;
        z = (z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9;
        z = (z ^ (z >> 27)) * 0x94D0_49BB_1331_11EB;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, n).</summary>
    public int Below(int n) => (int)(Next() % (ulong)n);

    public int Range(int min, int maxInclusive) => min + Below(maxInclusive - min + 1);

    public bool Chance(double p) => (Next() >> 11) * (1.0 / (1UL << 53)) < p;

    public T Pick<T>(IReadOnlyList<T> items) => items[Below(items.Count)];

    public void Fill(Span<byte> bytes)
    {
        int i = 0;
        for (; i + 8 <= bytes.Length; i += 8)
            BitConverter.TryWriteBytes(bytes.Slice(i), Next());
        for (; i < bytes.Length; i++)
            bytes[i] = (byte)Next();
    }

    public static ulong Mask(int bits) => bits >= 64 ? ulong.MaxValue : (1UL << bits) - 1;

    /// <summary>
    /// An integer of <paramref name="bits"/> width, biased towards the values where carries,
    /// overflows, sign changes and zero results happen.
    /// </summary>
    public ulong Edge(int bits)
    {
        ulong mask = Mask(bits);
        ulong sign = 1UL << (bits - 1);
        int roll = Below(100);
        if (roll < 40)
            return Next() & mask;
        if (roll < 75)
        {
            ulong v = Below(16) switch
            {
                0 => 0,
                1 => 1,
                2 => 2,
                3 => mask,
                4 => mask - 1,
                5 => sign,
                6 => sign - 1,
                7 => sign + 1,
                8 => 0x7F,
                9 => 0x80,
                10 => 0xFF,
                11 => 0x7FFF,
                12 => 0x8000,
                13 => 0xFFFF,
                14 => 0x7FFF_FFFF,
                _ => 0x8000_0000,
            };
            return v & mask;
        }
        if (roll < 90)
            return (ulong)(long)Range(-16, 16) & mask;
        ulong bit = 1UL << Below(bits);
        return (bit + (ulong)(long)Range(-1, 1)) & mask;
    }

    /// <summary>A double bit pattern: zeros, denormals, infinities, NaNs, conversion edges or random values.</summary>
    public ulong Double()
    {
        int roll = Below(100);
        if (roll < 45)
        {
            ulong v = Below(26) switch
            {
                0 => 0,
                1 => 0x8000_0000_0000_0000,
                2 => BitConverter.DoubleToUInt64Bits(1.0),
                3 => BitConverter.DoubleToUInt64Bits(-1.0),
                4 => BitConverter.DoubleToUInt64Bits(0.5),
                5 => BitConverter.DoubleToUInt64Bits(-2.5),
                6 => 1, // smallest denormal
                7 => 0x000F_FFFF_FFFF_FFFF, // largest denormal
                8 => 0x8000_0000_0000_0001,
                9 => 0x0010_0000_0000_0000, // DBL_MIN
                10 => 0x7FEF_FFFF_FFFF_FFFF, // DBL_MAX
                11 => 0x7FF0_0000_0000_0000, // +inf
                12 => 0xFFF0_0000_0000_0000, // -inf
                13 => 0x7FF8_0000_0000_0000, // QNaN
                14 => 0xFFF8_0000_0000_0000, // default NaN
                15 => 0x7FF8_0000_0000_1234, // QNaN with payload
                16 => 0x7FF0_0000_0000_0001, // SNaN
                17 => 0xFFF4_0000_0000_5678, // negative SNaN with payload
                18 => BitConverter.DoubleToUInt64Bits(2147483647.0),
                19 => BitConverter.DoubleToUInt64Bits(2147483648.0),
                20 => BitConverter.DoubleToUInt64Bits(-2147483648.5),
                21 => BitConverter.DoubleToUInt64Bits(9223372036854775807.0),
                22 => BitConverter.DoubleToUInt64Bits(-9223372036854775808.0),
                23 => BitConverter.DoubleToUInt64Bits(4294967295.5),
                24 => BitConverter.DoubleToUInt64Bits(1e300),
                _ => Next() & 0x000F_FFFF_FFFF_FFFF, // random denormal
            };
            return v;
        }
        if (roll < 60)
            return BitConverter.DoubleToUInt64Bits(Range(-1000, 1000) / (double)(1 << Below(4)));
        if (roll < 90)
        {
            // Random sign and mantissa, exponent near 1.0 so sums and products stay normal mostly.
            ulong exp = (ulong)(1023 + Range(-70, 70));
            return (Next() & 0x800F_FFFF_FFFF_FFFF) | (exp << 52);
        }
        return Next();
    }

    /// <summary>A float bit pattern with the same classes as <see cref="Double"/>.</summary>
    public uint Single()
    {
        int roll = Below(100);
        if (roll < 45)
        {
            uint v = Below(24) switch
            {
                0 => 0,
                1 => 0x8000_0000,
                2 => BitConverter.SingleToUInt32Bits(1.0f),
                3 => BitConverter.SingleToUInt32Bits(-1.0f),
                4 => BitConverter.SingleToUInt32Bits(0.5f),
                5 => BitConverter.SingleToUInt32Bits(-2.5f),
                6 => 1,
                7 => 0x007F_FFFF,
                8 => 0x8000_0001,
                9 => 0x0080_0000, // FLT_MIN
                10 => 0x7F7F_FFFF, // FLT_MAX
                11 => 0x7F80_0000,
                12 => 0xFF80_0000,
                13 => 0x7FC0_0000,
                14 => 0xFFC0_0000,
                15 => 0x7FC0_1234,
                16 => 0x7F80_0001,
                17 => 0xFFA0_5678,
                18 => BitConverter.SingleToUInt32Bits(2147483648.0f),
                19 => BitConverter.SingleToUInt32Bits(-2147483648.0f),
                20 => BitConverter.SingleToUInt32Bits(9223372036854775807.0f),
                21 => BitConverter.SingleToUInt32Bits(16777217.0f),
                22 => BitConverter.SingleToUInt32Bits(1e30f),
                _ => (uint)Next() & 0x007F_FFFF,
            };
            return v;
        }
        if (roll < 60)
            return BitConverter.SingleToUInt32Bits(Range(-1000, 1000) / (float)(1 << Below(4)));
        if (roll < 90)
        {
            uint exp = (uint)(127 + Range(-30, 30));
            return ((uint)Next() & 0x807F_FFFF) | (exp << 23);
        }
        return (uint)Next();
    }
}
