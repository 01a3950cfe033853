using System.Globalization;

namespace Actors.Client;

/// <summary>Memory sizes as users type them: plain bytes or a number with a binary K, M, G or T suffix.</summary>
public static class SizeParser
{
    /// <summary>Parses "64M", "1G", "16384K", "1048576" (also "64MB", "64MiB", lower case).</summary>
    /// <exception cref="FormatException">The text is not a size; the message is one line with the fix.</exception>
    public static ulong Parse(string text)
    {
        if (TryParse(text, out ulong bytes, out string? error))
            return bytes;
        throw new FormatException(error);
    }

    /// <summary>Parses a size as <see cref="Parse"/> does, without throwing.</summary>
    /// <param name="text">The size as typed.</param>
    /// <param name="bytes">The size in bytes, or 0 when the text is not a size.</param>
    /// <param name="error">Null for a size; otherwise one line saying what is wrong and how to write a size.</param>
    /// <returns>Whether <paramref name="text"/> is a size.</returns>
    public static bool TryParse(string? text, out ulong bytes, out string? error)
    {
        bytes = 0;
        error = null;
        string trimmed = (text ?? string.Empty).Trim();
        int digits = 0;
        while (digits < trimmed.Length && char.IsAsciiDigit(trimmed[digits]))
            digits++;

        string suffix = trimmed[digits..].ToUpperInvariant();
        // "iB" and "B" are accepted because people copy sizes from tools that print them.
        if (suffix.EndsWith("IB", StringComparison.Ordinal) && suffix.Length == 3)
            suffix = suffix[..1];
        else if (suffix.EndsWith('B') && suffix.Length == 2)
            suffix = suffix[..1];

        int shift = suffix switch
        {
            "" => 0,
            "K" => 10,
            "M" => 20,
            "G" => 30,
            "T" => 40,
            _ => -1,
        };
        if (digits == 0 || shift < 0
            || !ulong.TryParse(trimmed.AsSpan(0, digits), NumberStyles.None, CultureInfo.InvariantCulture, out ulong number))
        {
            error = $"bad size '{text}': use a number with K, M or G (for example 64M)";
            return false;
        }

        if (shift > 0 && number > (ulong.MaxValue >> shift))
        {
            error = $"bad size '{text}': too large";
            return false;
        }

        bytes = number << shift;
        return true;
    }

    /// <summary>The shortest exact form: "64M" for 64 MiB, "1536K" for 1.5 MiB, plain bytes otherwise.</summary>
    public static string Format(ulong bytes)
    {
        if (bytes == 0) return "0";
        foreach ((int shift, char unit) in new[] { (40, 'T'), (30, 'G'), (20, 'M'), (10, 'K') })
        {
            ulong unitBytes = 1UL << shift;
            if (bytes % unitBytes == 0)
                return string.Create(CultureInfo.InvariantCulture, $"{bytes / unitBytes}{unit}");
        }

        return bytes.ToString(CultureInfo.InvariantCulture);
    }
}
